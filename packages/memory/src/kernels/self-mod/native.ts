/**
 * SelfModifyingTitans — the fused native kernels (native/src/cpu/self_mod*.cc) on typed arrays.
 * Forward writes o and the final states; backward recomputes the states at block starts and
 * reverses each block by hand. The maths is that of the token loop of
 * modules/self-modifying.ts (the reference the tests compare with). Float32Array or
 * Float64Array, one dtype per call.
 *
 * Optional value input xv [B, T, H, D]: generator v reads xv instead of x (v = M_v(xv)); the
 * backward then returns its gradient dxv (and dx has no share of generator v).
 *
 * Layouts: x, q, xv, o [B, T, H, D]; w1, s1, a1 [B, M, H, D, Dh]; w2, s2, a2 [B, M, H, Dh, D]
 * (memories in the order k, v, eta, alpha, mem, + q with adaptiveQ; a = chunk-start snapshots).
 */
import { native, type SelfModDims } from '@nl/native';
import { allocLike } from '../alloc.js';
import { checkArray, checkChunkSize, checkSameDtype, type FloatArray } from '../shape.js';

/** The six states of every memory, in this order. */
export const SELF_MOD_STATES = ['w1', 'w2', 's1', 's2', 'a1', 'a2'] as const;
export type SelfModStateName = (typeof SELF_MOD_STATES)[number];
export type SelfModStates<A extends FloatArray> = Record<SelfModStateName, A>;

/** Sizes and options of one call. */
export interface SelfModOptions {
  batch: number;
  seqLen: number;
  heads: number;
  dim: number;
  hidden: number;
  /** Position of x's first token in the sequence (decides where chunks start). */
  tokens: number;
  chunkMem: number;
  chunkOther: number;
  momentum: number;
  alphaBias: number;
  etaBias: number;
  adaptiveQ: boolean;
  readSnapshot: boolean;
  /** Tokens per recompute block of the backward (default 0: about √(3T), see self_mod.h). */
  block?: number;
  /**
   * Forward and backward in chunk ("dual") form (default true): per piece of tokens sharing every
   * snapshot, the writes become small GEMMs and a forward substitution (native/src/cpu/self_mod_dual.h),
   * their reversal GEMMs and a transposed substitution (self_mod_dual_backward.h), instead of per-token
   * rank-1 updates; same results to rounding. false: the token recurrence, both ways.
   */
  dual?: boolean;
  /**
   * Inner-gradient clip c (default 0 = off): per token and memory, e and g scaled by
   * s = c / max(n, c), n² = ‖e‖²‖a‖² + ‖g‖²‖k‖² (the pair (e aᵀ, g kᵀ) to Frobenius norm ≤ c) before
   * any use; the backward goes through s (native/src/cpu/self_mod_clip.h, modules/self-modifying-clip.ts).
   */
  innerGradClip?: number;
}

/** The backward's default block: about √(3T), a multiple of 8, at least 16 (as self_mod.h). */
export function selfModAutoBlock(seqLen: number): number {
  let b = 16;
  while (b * b < 3 * seqLen) b += 8;
  return b;
}

/** Backward blocks of a call (⌈T / block⌉). */
export function selfModBlocks(o: SelfModOptions): number {
  return Math.ceil(o.seqLen / (o.block || selfModAutoBlock(o.seqLen)));
}

/** Elements of the block-start states a forward can keep for the backward (B H ⌈T / block⌉ 6 M D Dh). */
export function selfModCkptSize(o: SelfModOptions): number {
  const M = o.adaptiveQ ? 6 : 5;
  return o.batch * o.heads * selfModBlocks(o) * 6 * M * o.dim * o.hidden;
}

/**
 * Gives a call's output array of `shape` (row-major); the kernels write every element, so it need
 * not be zeroed (e.g. a pooled tensor's buffer). Default: a fresh array of the inputs' dtype.
 */
export type SelfModAlloc<A extends FloatArray> = (shape: readonly number[]) => A;

const freshArrays =
  <A extends FloatArray>(like: A): SelfModAlloc<A> =>
  (shape) =>
    allocLike(
      like,
      shape.reduce((p, k) => p * k, 1),
    );

function isCount(x: unknown, min: number): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= min;
}

/** Checks the options; returns the native dims struct and the state shapes. */
function prepare(name: string, o: SelfModOptions) {
  for (const k of ['batch', 'heads', 'dim', 'hidden'] as const) {
    if (!isCount(o[k], 1))
      throw new RangeError(`nl.${name}: ${k} must be a positive integer, got ${String(o[k])}`);
  }
  for (const k of ['seqLen', 'tokens'] as const) {
    if (!isCount(o[k], 0))
      throw new RangeError(`nl.${name}: ${k} must be a non-negative integer, got ${String(o[k])}`);
  }
  checkChunkSize(name, o.chunkMem);
  checkChunkSize(name, o.chunkOther);
  const block = o.block ?? 0;
  if (!isCount(block, 0))
    throw new RangeError(`nl.${name}: block must be a non-negative integer, got ${String(block)}`);
  for (const k of ['momentum', 'alphaBias', 'etaBias'] as const) {
    if (!Number.isFinite(o[k])) throw new RangeError(`nl.${name}: ${k} must be finite, got ${String(o[k])}`);
  }
  const clip = o.innerGradClip ?? 0;
  if (typeof clip !== 'number' || !Number.isFinite(clip) || clip < 0)
    throw new RangeError(
      `nl.${name}: innerGradClip must be a finite number >= 0 (0 = off), got ${String(clip)}`,
    );
  const { batch: B, seqLen: T, heads: H, dim: D, hidden: Dh } = o;
  const M = o.adaptiveQ ? 6 : 5;
  const dims: SelfModDims = {
    batch: B, seqLen: T, heads: H, d: D, hidden: Dh, mems: M, tokens: o.tokens, chunkMem: o.chunkMem,
    chunkOther: o.chunkOther, block, momentum: o.momentum, alphaBias: o.alphaBias, etaBias: o.etaBias,
    adaptiveQ: o.adaptiveQ, readSnapshot: o.readSnapshot, dual: o.dual ?? true, innerGradClip: clip,
  }; // prettier-ignore
  const seq = [B, T, H, D];
  const shape = (s: SelfModStateName): number[] => (s.endsWith('1') ? [B, M, H, D, Dh] : [B, M, H, Dh, D]);
  return { dims, seq, shape };
}

function checkStates<A extends FloatArray>(name: string, prefix: string, st: Partial<SelfModStates<A>>, shape: (s: SelfModStateName) => number[], optional: boolean): void {
  for (const s of SELF_MOD_STATES) {
    const a = st[s];
    if (a === undefined && optional) continue;
    checkArray(name, prefix + s, a, shape(s));
  }
} // prettier-ignore

/**
 * Fused forward: o [B, T, H, D] and the final states; with `keep`, also the block-start states
 * (`ckpt`, selfModCkptSize elements) that spare the backward its first recompute pass. Outputs
 * come from `alloc`, in the order o, the states (SELF_MOD_STATES order), ckpt. `xv` (optional):
 * the value input that generator v reads instead of x.
 */
export function selfModForward<A extends FloatArray>(
  x: A,
  q: A,
  state: SelfModStates<A>,
  opts: SelfModOptions,
  keep = false,
  alloc: SelfModAlloc<A> = freshArrays(x),
  xv?: A,
): { o: A; state: SelfModStates<A>; ckpt?: A } {
  const name = 'selfModForward';
  const { dims, seq, shape } = prepare(name, opts);
  checkArray(name, 'x', x, seq);
  checkArray(name, 'q', q, seq);
  if (xv !== undefined) checkArray(name, 'xv', xv, seq);
  checkStates(name, '', state, shape, false);
  checkSameDtype(name, { x, q, xv, ...state });
  const o = alloc(seq);
  const out = {} as SelfModStates<A>;
  for (const s of SELF_MOD_STATES) out[s] = alloc(shape(s));
  const ckpt = keep ? alloc([selfModCkptSize(opts)]) : undefined;
  native.selfModForward(
    { x, q, xv: xv ?? null, w1: state.w1, w2: state.w2, s1: state.s1, s2: state.s2, a1: state.a1, a2: state.a2, o, w1Out: out.w1, w2Out: out.w2, s1Out: out.s1, s2Out: out.s2, a1Out: out.a1, a2Out: out.a2, ckpt: ckpt ?? null },
    dims,
  ); // prettier-ignore
  return ckpt ? { o, state: out, ckpt } : { o, state: out };
}

/**
 * Fused backward: dx, dq (zero with adaptiveQ) and the gradients of the initial states, given
 * dO and optional gradients of the final states; `ckpt` (a forward's, same inputs and options)
 * skips recomputing the block-start states. With `xv` (the forward's value input) also dxv. Outputs
 * come from `alloc`, in the order dx, dq, the state gradients (SELF_MOD_STATES order), dxv.
 */
export function selfModBackward<A extends FloatArray>(
  x: A,
  q: A,
  state: SelfModStates<A>,
  dO: A,
  dState: Partial<SelfModStates<A>>,
  opts: SelfModOptions,
  ckpt?: A,
  alloc: SelfModAlloc<A> = freshArrays(x),
  xv?: A,
): { dx: A; dq: A; dState: SelfModStates<A>; dxv?: A } {
  const name = 'selfModBackward';
  const { dims, seq, shape } = prepare(name, opts);
  checkArray(name, 'x', x, seq);
  checkArray(name, 'q', q, seq);
  if (xv !== undefined) checkArray(name, 'xv', xv, seq);
  checkArray(name, 'dO', dO, seq);
  checkStates(name, '', state, shape, false);
  checkStates(name, 'd', dState, shape, true);
  if (ckpt !== undefined) checkArray(name, 'ckpt', ckpt, [selfModCkptSize(opts)]);
  checkSameDtype(name, { x, q, xv, dO, ...state, ...dState, ckpt });
  const dx = alloc(seq);
  const dq = alloc(seq);
  const g = {} as SelfModStates<A>;
  for (const s of SELF_MOD_STATES) g[s] = alloc(shape(s));
  const dxv = xv === undefined ? undefined : alloc(seq);
  const d = dState;
  native.selfModBackward(
    { x, q, xv: xv ?? null, w1: state.w1, w2: state.w2, s1: state.s1, s2: state.s2, a1: state.a1, a2: state.a2, dO, dW1: d.w1 ?? null, dW2: d.w2 ?? null, dS1: d.s1 ?? null, dS2: d.s2 ?? null, dA1: d.a1 ?? null, dA2: d.a2 ?? null,
      dx, dq, dxv: dxv ?? null, gW1: g.w1, gW2: g.w2, gS1: g.s1, gS2: g.s2, gA1: g.a1, gA2: g.a2, ckpt: ckpt ?? null },
    dims,
  ); // prettier-ignore
  return dxv ? { dx, dq, dState: g, dxv } : { dx, dq, dState: g };
}
