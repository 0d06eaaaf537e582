/**
 * Issue 16's diagnosis as a regression test: with every memory layer at the default std 0.02
 * the self-modifying memory's read barely depends on what it was written earlier (its write
 * e σ(W2 k)ᵀ and read W1 σ(W2 q) are products of two small inits, and k ≈ v), so Hope could not
 * learn recall; HOPE_LIVE_MEMORY_INIT's memoryInitStd / etaBias make the read depend on an earlier
 * token by orders of magnitude more. Measured as ‖∂ o_T / ∂ x_0‖ (the last read against the first
 * token's input), float64, token loop, the hope-tiny head shape. Without its innerGradClip that
 * init overflows at T ≥ 128; with it hope-tiny's forward at T 512 is finite.
 */
import { describe, expect, it } from 'vitest';
import { SelfModifyingTitans, type SelfModifyingConfig } from '@nl/memory';
import { manualSeed, noGrad, randn, tensor } from '@nl/tensor';
import { HOPE_LIVE_MEMORY_INIT, hopePreset } from '../src/models/hope-presets.js';
import { HopeLM } from '../src/models/hope-index.js';

const [H, D, T] = [4, 32, 12];

function sensitivity(cfg: Partial<SelfModifyingConfig>): number {
  manualSeed(11);
  const m = new SelfModifyingTitans({
    heads: H,
    dim: D,
    hidden: 16,
    chunkMem: 32,
    chunkOther: 16,
    dtype: 'float64',
    ...cfg,
  });
  // unit-norm inputs per head, as HopeBlock feeds them
  const unit = (a: Float64Array): number[] => {
    const out = Array.from(a);
    for (let i = 0; i < out.length; i += D) {
      const n = Math.hypot(...out.slice(i, i + D));
      for (let j = i; j < i + D; j++) out[j]! /= n;
    }
    return out;
  };
  const x = tensor(unit(randn([1, T, H, D], { dtype: 'float64' }).dataSync() as Float64Array), {
    shape: [1, T, H, D],
    dtype: 'float64',
    requiresGrad: true,
  });
  const q = tensor(unit(randn([1, T, H, D], { dtype: 'float64' }).dataSync() as Float64Array), {
    shape: [1, T, H, D],
    dtype: 'float64',
  });
  const o = m.forward(x, q);
  o.narrow(1, T - 1, 1)
    .square()
    .sum()
    .backward();
  const g = Array.from(x.grad!.dataSync()).slice(0, H * D); // token 0
  return Math.hypot(...g);
}

describe('self-modifying memory at init (HOPE_LIVE_MEMORY_INIT)', () => {
  it("the last read depends on the first token's input >= 100x more than with the 0.02 defaults", () => {
    const live = HOPE_LIVE_MEMORY_INIT;
    const before = sensitivity({ etaBias: -4 }); // the HopeConfig defaults
    const after = sensitivity({ etaBias: live.etaBias!, memoryInitStd: live.memoryInitStd! });
    expect(before).toBeGreaterThan(0);
    expect(after / before).toBeGreaterThan(100);
  });
});

describe('HOPE_LIVE_MEMORY_INIT stays finite', () => {
  it('hope-tiny at B 4, T 512: finite logits with its innerGradClip, non-finite without', () => {
    const [b, t] = [4, 512];
    const r = randn([b * t], { dtype: 'float64' }).dataSync();
    const ids = tensor(
      Array.from(r, (v) => Math.floor(Math.abs(v) * 1000) % 256),
      { shape: [b, t], dtype: 'int32' },
    );
    const finite = (clip: number): boolean =>
      noGrad(() => {
        const m = new HopeLM({
          ...hopePreset('hope-tiny', HOPE_LIVE_MEMORY_INIT),
          innerGradClip: clip,
          seed: 3,
        });
        return m.forward(ids).dataSync().every(Number.isFinite);
      });
    expect(HOPE_LIVE_MEMORY_INIT.innerGradClip).toBe(1);
    expect(finite(1)).toBe(true);
    expect(finite(0)).toBe(false);
  });
});
