/**
 * HopeLM's ablation switches (the paper's Table 6): `staticGenerators` and `precondition` reach
 * every layer's SelfModifyingTitans (a built model's generators keep their inits; without the
 * preconditioner the logits change), defaults keep the full model, and the fused impl is refused
 * with an error naming the switch.
 */
import { describe, expect, it } from 'vitest';
import { copy_, fromTypedArray, manualSeed, mul, noGrad, tidy } from '@nl/tensor';
import { HopeLM } from '../src/models/hope.js';
import { resolveHopeConfig, type HopeConfigInput } from '../src/models/hope-config.js';

const base: HopeConfigInput = {
  vocabSize: 16,
  dim: 8,
  layers: 2,
  heads: 2,
  chunkMem: 4,
  chunkOther: 2,
  selfModImpl: 'chunked',
  dtype: 'float64',
  etaBias: 0,
};
const ids = fromTypedArray(
  Int32Array.from({ length: 12 }, (_, i) => (i * 7) % 16),
  [1, 12],
);

function logits(over: Partial<HopeConfigInput>): { out: Float64Array; m: HopeLM } {
  manualSeed(3);
  const m = new HopeLM({ ...base, ...over, seed: 3 });
  // larger generator / memory inits than the 0.02 default (×5), so the switches change the numbers visibly
  noGrad(() => {
    for (const [name, p] of m.namedParameters()) if (/titans\./.test(name)) tidy(() => copy_(p, mul(p, 5)));
  });
  const out = m.forward(ids).dataSync() as Float64Array;
  expect(out.every(Number.isFinite)).toBe(true);
  return { out, m };
}

describe('HopeLM memoryInitStd', () => {
  it('reaches every layer: the named layers get their std, the others 0.02; bad entries are named', () => {
    manualSeed(1);
    const m = new HopeLM({ ...base, dim: 64, heads: 2, memoryHidden: 32, memoryInitStd: { mem: { w2: 1 } } });
    const std = (t: ArrayLike<number>): number => {
      const a = Array.from(t);
      return Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
    };
    for (const b of m.blocks) {
      expect(Math.abs(std(b.titans.memories.mem!.w2.dataSync()) - 1)).toBeLessThan(0.05);
      expect(Math.abs(std(b.titans.memories.mem!.w1.dataSync()) / 0.02 - 1)).toBeLessThan(0.05);
      expect(Math.abs(std(b.titans.memories.v!.w2.dataSync()) / 0.02 - 1)).toBeLessThan(0.05);
    }
    expect(() => resolveHopeConfig({ ...base, memoryInitStd: { q: { w1: 1 } } as never })).toThrow(
      /memoryInitStd\.q: unknown memory/,
    );
    expect(() => resolveHopeConfig({ ...base, memoryInitStd: { k: { w3: 1 } } as never })).toThrow(
      /memoryInitStd\.k\.w3: unknown layer/,
    );
    expect(() => resolveHopeConfig({ ...base, memoryInitStd: { k: { w1: Number.NaN } } })).toThrow(
      /memoryInitStd\.k\.w1 must be a finite number >= 0/,
    );
  });
});

describe('HopeLM ablation switches', () => {
  it('defaults: full model (generators write, DGD preconditioner on)', () => {
    const c = resolveHopeConfig(base);
    expect([c.staticGenerators, c.precondition]).toEqual([false, true]);
  });

  it('staticGenerators: every layer keeps k, v, η, α at their inits; outputs differ from the full model', () => {
    const full = logits({});
    const st = logits({ staticGenerators: true });
    for (const [li, layer] of st.m.blocks.entries())
      for (const n of ['k', 'v', 'eta', 'alpha']) {
        const init = layer.titans.memories[n]!.w2.dataSync();
        expect(Array.from(layer.titans.fast(n)!.w2.dataSync()), `layer ${li} ${n}`).toEqual(Array.from(init));
      }
    const d = st.out.reduce((s, v, i) => Math.max(s, Math.abs(v - full.out[i]!)), 0);
    expect(d).toBeGreaterThan(1e-6);
  });

  it('precondition false changes the logits; both switches need a tensor-op impl', () => {
    const full = logits({});
    const gd = logits({ precondition: false });
    expect(gd.out.reduce((s, v, i) => Math.max(s, Math.abs(v - full.out[i]!)), 0)).toBeGreaterThan(1e-6);
    for (const sw of [{ staticGenerators: true }, { precondition: false }])
      expect(() => resolveHopeConfig({ ...base, ...sw, selfModImpl: 'fused' })).toThrow(
        /staticGenerators \/ precondition: false need selfModImpl 'loop' or 'chunked', got 'fused'/,
      );
    expect(() => resolveHopeConfig({ ...base, precondition: 1 as unknown as boolean })).toThrow(
      /precondition must be a boolean/,
    );
  });
});
