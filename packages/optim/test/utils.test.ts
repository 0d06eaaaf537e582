// Schedules, clipping, the typed-array adapter and parameter validation.
import { describe, expect, it } from 'vitest';
import {
  clipGradNorm,
  LRScheduler,
  paramFromArrays,
  SGD,
  stepSchedule,
  warmupCosineSchedule,
} from '../src/index.js';

describe('schedules', () => {
  it('warm-up then cosine to minRatio', () => {
    const f = warmupCosineSchedule(4, 14, 0.1);
    expect([0, 1, 2, 3].map(f)).toEqual([0.25, 0.5, 0.75, 1]);
    expect(f(4)).toBeCloseTo(1, 15);
    expect(f(9)).toBeCloseTo(0.1 + 0.9 * 0.5, 15);
    expect(f(14)).toBeCloseTo(0.1, 15);
    expect(f(100)).toBeCloseTo(0.1, 15);
    expect(() => warmupCosineSchedule(5, 5)).toThrow(/total must be an integer > warmup/);
  });
  it('step schedule and LRScheduler write group lrs from their own bases', () => {
    const a = paramFromArrays(new Float32Array(1), null);
    const b = paramFromArrays(new Float32Array(1), null);
    const opt = new SGD([
      { params: [a], lr: 1 },
      { params: [b], lr: 0.5 },
    ]);
    const s = new LRScheduler(opt, stepSchedule(3, 0.1));
    s.apply(2);
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([1, 0.5]);
    s.apply(7);
    expect(opt.paramGroups[0]!.lr).toBeCloseTo(0.01, 15);
    expect(opt.paramGroups[1]!.lr).toBeCloseTo(0.005, 15);
  });
});

describe('clipGradNorm', () => {
  it('scales all gradients to the max norm and returns the old norm', () => {
    const a = paramFromArrays(new Float64Array(2), Float64Array.from([3, 0]));
    const b = paramFromArrays(new Float64Array(1), Float64Array.from([4]));
    expect(clipGradNorm([a, b], 1)).toBe(5);
    const n = Math.hypot(a.gradView![0]!, a.gradView![1]!, b.gradView![0]!);
    expect(n).toBeCloseTo(1, 6);
    expect(a.gradView![0]! / b.gradView![0]!).toBeCloseTo(0.75, 12);
    expect(clipGradNorm([a, b], 10)).toBeCloseTo(1, 6); // no-op under the limit
    expect(() => clipGradNorm([a], 0)).toThrow(/maxNorm must be a positive/);
  });
});

describe('paramFromArrays', () => {
  it('is zero-copy: the optimizer writes the caller arrays and reads gradient updates live', () => {
    const w = new Float32Array([1, 2]);
    const g = new Float32Array([0.5, -1]);
    const p = paramFromArrays(w, g);
    const opt = new SGD([p], { lr: 0.1 });
    opt.step();
    expect(Array.from(w)).toEqual([Math.fround(0.95), Math.fround(2.1)]);
    g.set([1, 1]);
    opt.step();
    expect(w[0]).toBeCloseTo(0.85, 6);
    opt.zeroGrad();
    expect(Array.from(g)).toEqual([0, 0]);
  });
  it('rejects mismatched shapes and types', () => {
    expect(() => paramFromArrays(new Float32Array(4), null, [3])).toThrow(
      /shape \[3\] has 3 elements but view has 4/,
    );
    expect(() => paramFromArrays(new Float32Array(4), new Float32Array(3))).toThrow(
      /gradView has 3 elements/,
    );
    expect(() => paramFromArrays([1, 2] as never, null)).toThrow(/Float32Array or Float64Array/);
  });
});

describe('maximize', () => {
  it('SGD/Adam/AdamW with maximize on g equal the plain optimizer on −g', async () => {
    const { SGD: S, Adam, AdamW } = await import('../src/index.js');
    for (const [C, o] of [
      [S, { lr: 0.1, momentum: 0.9, weightDecay: 0.1 }],
      [Adam, { lr: 0.1, weightDecay: 0.1 }],
      [AdamW, { lr: 0.1, amsgrad: true }],
    ] as const) {
      const a = paramFromArrays(Float64Array.from([1, -2, 0.5]), new Float64Array(3));
      const b = paramFromArrays(Float64Array.from([1, -2, 0.5]), new Float64Array(3));
      const oa = new (C as typeof S)([a], { ...o, maximize: true } as never);
      const ob = new (C as typeof S)([b], o as never);
      for (let t = 0; t < 4; t++) {
        a.gradView!.set([t + 1, -0.5, 2 - t]);
        b.gradView!.set([-(t + 1), 0.5, -(2 - t)]);
        oa.step();
        ob.step();
      }
      expect(Array.from(a.view)).toEqual(Array.from(b.view));
      expect(a.view[0]).not.toBe(1);
    }
  });
});
