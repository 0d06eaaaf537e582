// nl.optimAdamStep (fused Adam/AdamW over a group): argument errors name the problem; one step on
// two tensors of different dtypes equals the closed form written out here.
import { describe, expect, it } from 'vitest';
import { native } from '../lib/index.js';

describe('optimAdamStep', () => {
  it('first AdamW step: param·(1−lr·wd) − lr·g/(|g|+eps) (bias-corrected moments)', () => {
    const p32 = new Float32Array([1, -2, 3]);
    const g32 = new Float32Array([0.5, 0.25, -4]);
    const p64 = new Float64Array([0.5]);
    const g64 = new Float64Array([-1e-3]);
    const z = (a: Float32Array | Float64Array) => new (a.constructor as Float64ArrayConstructor)(a.length);
    const ms = [z(p32), z(p64)],
      vs = [z(p32), z(p64)];
    native.optimAdamStep(
      [p32, p64],
      [g32, g64],
      ms,
      vs,
      null,
      [1, 1],
      0.1,
      0.9,
      0.999,
      1e-8,
      0.01,
      true,
      false,
      false,
    );
    const expect1 = (x: number, g: number) => x * (1 - 0.1 * 0.01) - 0.1 * (g / (Math.abs(g) + 1e-8));
    [1, -2, 3].forEach((x, i) => expect(p32[i]).toBeCloseTo(expect1(x, g32[i]!), 6));
    expect(p64[0]).toBeCloseTo(expect1(0.5, -1e-3), 12);
    expect(ms[1]![0]).toBeCloseTo(0.1 * -1e-3, 15);
  });
  it('rejects mismatched arrays with a clear message', () => {
    const a = new Float32Array(3);
    expect(() =>
      native.optimAdamStep(
        [a],
        [new Float32Array(2)],
        [a],
        [a],
        null,
        [1],
        0.1,
        0.9,
        0.99,
        1e-8,
        0,
        true,
        false,
        false,
      ),
    ).toThrow(/nl.optimAdamStep: tensor 0: grad and state arrays must match/);
    expect(() =>
      native.optimAdamStep([a], [a, a], [a], [a], null, [1], 0.1, 0.9, 0.99, 1e-8, 0, true, false, false),
    ).toThrow(/must have the same count/);
    expect(() =>
      native.optimAdamStep([a], [a], [a], [a], null, [0], 0.1, 0.9, 0.99, 1e-8, 0, true, false, false),
    ).toThrow(/steps\[0\] must be a number >= 1/);
  });
});

describe('optimNewtonSchulz', () => {
  it('0 steps returns the Frobenius-normalised input; errors name the problem', () => {
    const g = new Float64Array([3, 0, 0, 4, 0, 0]); // [3, 2]: transposed internally
    const out = new Float64Array(6);
    native.optimNewtonSchulz(g, out, 1, 3, 2, 0);
    [3, 0, 0, 4, 0, 0].forEach((v, i) => expect(out[i]).toBeCloseTo(v / (5 + 1e-7), 14));
    expect(() => native.optimNewtonSchulz(g, new Float32Array(6), 1, 3, 2, 5)).toThrow(
      /nl.optimNewtonSchulz: g and out must both be/,
    );
    expect(() => native.optimNewtonSchulz(g, out, 2, 3, 2, 5)).toThrow(/batch\*rows\*cols = 12/);
  });
});
