/**
 * Shared pieces of the SelfModifyingTitans module tests: the small shape (2 heads × 4 × hidden 3),
 * modules of several impls with the same random inits, plain-number SiLU / sigmoid for the
 * independent one-token references, and the fast-weight / init-gradient comparison of two modules.
 */
import { expect } from 'vitest';
import { gradcheck, type Tensor } from '@nl/tensor';
import type { SelfModifyingConfig, SelfModifyingTitans } from '../../src/index.js';
import { maxDiff, randArr, rng, sameInitSelfMod, t64 } from './helpers.js';

export const [H, D, DH] = [2, 4, 3] as const;

/** Config fields a test sets (the shape and the impl come from the kit). */
export type SmallCfg = Omit<SelfModifyingConfig, 'heads' | 'dim' | 'hidden' | 'impl'>;

/** float64 modules of the given impls at the small shape with the same random inits (uniform ±0.6). */
export const buildSmall = (
  seed: number,
  cfg: SmallCfg,
  impls: SelfModifyingConfig['impl'][],
): SelfModifyingTitans[] => sameInitSelfMod(seed, { H, D, DH }, cfg, impls);

export const silu = (z: number): number => z / (1 + Math.exp(-z));
export const dsilu = (z: number): number => {
  const s = 1 / (1 + Math.exp(-z));
  return s * (1 + z * (1 - s));
};
export const sig = (z: number): number => 1 / (1 + Math.exp(-z));

/** Every memory's fast w1 / w2 (≤ 1e-12) and init gradients (≤ 1e-11) of `got` equal `want`'s. */
export function expectSameFastAndGrads(got: SelfModifyingTitans, want: SelfModifyingTitans): void {
  for (const n of want.names)
    for (const k of ['w1', 'w2'] as const) {
      expect(maxDiff(got.fast(n)![k].dataSync(), want.fast(n)![k].dataSync()), `fast ${n}.${k}`).toBeLessThan(
        1e-12,
      );
      const gw = want.memories[n]![k].grad!.dataSync();
      expect(maxDiff(got.memories[n]![k].grad!.dataSync(), gw), `grad ${n}.${k}`).toBeLessThan(1e-11);
    }
}

/**
 * Central differences of m's outer gradient over 5 tokens (one call from a reset): w.r.t. the
 * input x and the named init layers (e.g. ['mem', 'w1']); every element checked.
 */
export function expectInitGradcheck(m: SelfModifyingTitans, layers: [string, 'w1' | 'w2'][]): void {
  const r = rng(22);
  const q = t64(randArr(r, 5 * H * D), [1, 5, H, D]);
  const fn = (x: Tensor, ...ws: Tensor[]): Tensor => {
    layers.forEach(([n, w], i) => m.memories[n]!.replaceParameter(w, ws[i]!));
    m.reset();
    return m.forward(x, q);
  };
  const ins = [t64(randArr(r, 5 * H * D), [1, 5, H, D]), ...layers.map(([n, w]) => m.memories[n]![w])].map(
    (p) => t64(p.dataSync() as Float64Array, [...p.shape]),
  );
  expect(gradcheck(fn, ins, { atol: 1e-7, rtol: 1e-5 }).checked).toBe(ins.reduce((s, t) => s + t.numel, 0));
}
