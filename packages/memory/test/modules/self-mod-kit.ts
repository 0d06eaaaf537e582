/**
 * Shared pieces of the SelfModifyingTitans module tests: the small shape (2 heads × 4 × hidden 3),
 * modules of several impls with the same random inits, plain-number SiLU / sigmoid for the
 * independent one-token references, and the fast-weight / init-gradient comparison of two modules.
 */
import { expect } from 'vitest';
import { cat, gradcheck, type Tensor } from '@nl/tensor';
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

/**
 * Runs m on x, q (and xv when `withXv`) [B, T, H, D] (data[0..2]) cut at `cuts`; loss = ⟨o, data[3]⟩
 * + 0.3 Σ fast w1 − 0.2 Σ fast w2², backward. Returns o and the input tensors (their .grad).
 */
export function runCut(
  m: SelfModifyingTitans,
  data: Float64Array[],
  B: number,
  T: number,
  cuts: number[],
  withXv = true,
) {
  const [xt, qt, vt] = data.slice(0, 3).map((a) => t64(a, [B, T, H, D], true)) as [Tensor, Tensor, Tensor];
  const bounds = [0, ...cuts, T];
  const outs: Tensor[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const [a, n] = [bounds[i]!, bounds[i + 1]! - bounds[i]!];
    outs.push(m.forward(xt.narrow(1, a, n), qt.narrow(1, a, n), withXv ? { xv: vt.narrow(1, a, n) } : {}));
  }
  const o = outs.length === 1 ? outs[0]! : cat(outs, 1);
  let loss = o.mul(t64(data[3]!, [B, T, H, D])).sum();
  for (const n of m.names) {
    const f = m.fast(n)!;
    loss = loss.add(f.w1.sum().mul(0.3)).add(f.w2.square().sum().mul(-0.2));
  }
  loss.backward();
  return { o: o.dataSync(), gx: xt.grad, gq: qt.grad, gv: vt.grad, m };
}
