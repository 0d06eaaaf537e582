/**
 * Shared set-up of the fused SelfModifyingTitans kernel tests (self-mod-native*.test.ts): a case's
 * sizes and op attributes, its float64 operands drawn from a seed, and the kernel options.
 */
import { SELF_MOD_STATES, type SelfModOptions, type SelfModStates } from '../../src/kernels/index.js';
import type { FusedSelfModAttrs } from '../../src/modules/self-modifying-fused.js';
import { randArray, rng } from './helpers.js';

export interface SelfModCase {
  B: number;
  T: number;
  H: number;
  D: number;
  Dh: number;
  attrs: FusedSelfModAttrs;
}

/** Op attributes the cases start from (small chunks so pieces and snapshots occur in a few tokens). */
export const SELF_MOD_BASE = {
  tokens: 0,
  chunkMem: 3,
  chunkOther: 2,
  momentum: 0.9,
  alphaBias: 1,
  etaBias: -1,
  adaptiveQ: false,
  readSnapshot: false,
};

/**
 * x, q [B, T, H, D] (and, with `withXv`, a value input xv of the same shape, drawn after them) and
 * the six states ([B, M, H, D, Dh] / [B, M, H, Dh, D]) as float64 arrays.
 */
export function selfModData(seed: number, c: SelfModCase, withXv = false) {
  const r = rng(seed);
  const M = c.attrs.adaptiveQ ? 6 : 5;
  const n = c.B * c.T * c.H * c.D;
  const ns = c.B * M * c.H * c.D * c.Dh;
  const scale = { w1: 0.5, w2: 0.5, s1: 0.1, s2: 0.1, a1: 0.5, a2: 0.5 };
  const st = {} as SelfModStates<Float64Array>;
  for (const s of SELF_MOD_STATES) st[s] = randArray(ns, r, (u) => scale[s] * u);
  const shape = (s: string) => (s.endsWith('1') ? [c.B, M, c.H, c.D, c.Dh] : [c.B, M, c.H, c.Dh, c.D]);
  const x = randArray(n, r);
  const q = randArray(n, r);
  const xv = withXv ? randArray(n, r) : undefined;
  return { x, q, xv, st, shape, seq: [c.B, c.T, c.H, c.D], M };
}

/** The kernel options of a case (its attrs, then `extra`, then its sizes). */
export const selfModOpts = (c: SelfModCase, extra: Partial<SelfModOptions> = {}): SelfModOptions => ({
  ...c.attrs,
  ...extra,
  batch: c.B,
  seqLen: c.T,
  heads: c.H,
  dim: c.D,
  hidden: c.Dh,
});
