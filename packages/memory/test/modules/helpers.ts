/** Test helpers for the memory modules: seeded float64 data and tensors. */
import { tensor, type Tensor } from '@nl/tensor';
import { SelfModifyingTitans, type SelfModifyingConfig } from '../../src/index.js';

/** Deterministic uniform numbers in [lo, hi) (mulberry32). */
export function rng(seed: number): (lo?: number, hi?: number) => number {
  let a = seed >>> 0;
  return (lo = -1, hi = 1) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return lo + (hi - lo) * u;
  };
}

/** Random float64 array of n values in [lo, hi). */
export function randArr(r: ReturnType<typeof rng>, n: number, lo = -1, hi = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = r(lo, hi);
  return a;
}

/** float64 tensor of the given shape from an array (copied). */
export const t64 = (a: Float64Array, shape: number[], requiresGrad = false): Tensor =>
  tensor(Array.from(a), { shape, dtype: 'float64', requiresGrad });

/** Slice tokens [t0, t1) out of a [B, T, H, ...] row-major array with per-token stride `inner`. */
export function sliceTokens(
  a: Float64Array,
  B: number,
  T: number,
  inner: number,
  t0: number,
  t1: number,
): Float64Array {
  const out = new Float64Array(B * (t1 - t0) * inner);
  for (let b = 0; b < B; b++)
    out.set(a.subarray((b * T + t0) * inner, (b * T + t1) * inner), b * (t1 - t0) * inner);
  return out;
}

/** Max |a − b|. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/**
 * float64 SelfModifyingTitans modules of the given impls, heads × dim × hidden = `size`, with the
 * same random inits (every memory's w1, w2 uniform ±0.6, drawn from `seed` in the names' order).
 */
export function sameInitSelfMod(
  seed: number,
  size: { H: number; D: number; DH: number },
  cfg: Omit<SelfModifyingConfig, 'heads' | 'dim' | 'hidden' | 'impl'>,
  impls: SelfModifyingConfig['impl'][],
): SelfModifyingTitans[] {
  const { H, D, DH } = size;
  const r = rng(seed);
  const ms = impls.map(
    (impl) => new SelfModifyingTitans({ heads: H, dim: D, hidden: DH, dtype: 'float64', ...cfg, impl }),
  );
  for (const n of ms[0]!.names) {
    const w1 = randArr(r, H * D * DH, -0.6, 0.6);
    const w2 = randArr(r, H * DH * D, -0.6, 0.6);
    for (const m of ms) {
      m.memories[n]!.replaceParameter('w1', t64(w1, [H, D, DH]));
      m.memories[n]!.replaceParameter('w2', t64(w2, [H, DH, D]));
    }
  }
  return ms;
}
