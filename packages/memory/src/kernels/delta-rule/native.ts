/**
 * Gated delta rule — the fused native kernels (WY/UT chunked forward; backward with chunk-boundary
 * recompute), typed over Float32Array or Float64Array. Exact tiling: results do not depend on
 * `chunkSize` beyond rounding — unless `snapshot` is set (mini-batch semantics, see types.ts).
 */
import { native } from '@nl/native';
import { allocLike } from '../alloc.js';
import { checkSameDtype, type FloatArray } from '../shape.js';
import {
  checkDeltaRuleGradOutputs,
  checkDeltaRuleInputs,
  deltaRuleOptions,
  type DeltaRuleOptions,
  type DeltaRuleGradOutputs,
  type DeltaRuleGrads,
  type DeltaRuleInputs,
  type DeltaRuleOutputs,
} from './types.js';

/** Options of the fused delta-rule kernels (same as the reference's). */
export type DeltaRuleKernelOptions = DeltaRuleOptions;

/**
 * Fused gated-delta-rule forward on the CPU (threaded over batch × heads).
 *
 * @param x q, k [B, T, H, Dk]; v [B, T, H, Dv]; alpha, beta [B, T, H]; optional s0 [B, H, Dk, Dv];
 *   every array of one dtype
 * @returns o [B, T, H, Dv] and the final state [B, H, Dk, Dv], in the inputs' dtype
 * @example
 *   const { o, state } = deltaRuleForward({ q, k, v, alpha, beta, shape }, { chunkSize: 64 });
 */
export function deltaRuleForward<A extends FloatArray>(
  x: DeltaRuleInputs<A>,
  opts: DeltaRuleKernelOptions = {},
): DeltaRuleOutputs<A> {
  const op = 'deltaRuleForward';
  const { chunkSize, snapshot, erase } = deltaRuleOptions(op, opts);
  checkDeltaRuleInputs(op, x);
  checkSameDtype(op, { q: x.q, k: x.k, v: x.v, alpha: x.alpha, beta: x.beta, s0: x.s0 });
  const { batch: B, seqLen: T, heads: H, dk, dv } = x.shape;
  const o = allocLike(x.q, B * T * H * dv);
  const state = allocLike(x.q, B * H * dk * dv);
  native.deltaRuleForward(
    { q: x.q, k: x.k, v: x.v, alpha: x.alpha, beta: x.beta, s0: x.s0 ?? null, o, state },
    { batch: B, seqLen: T, heads: H, dk, dv, chunkSize, snapshot, erase },
  );
  return { o, state };
}

/**
 * Fused gated-delta-rule backward: gradients of q, k, v, α, β and S0 given dL/do and dL/dS_T.
 * Recomputes chunk-boundary states instead of storing per-token states.
 *
 * @param x the forward inputs
 * @param g dO [B, T, H, Dv]; optional dState [B, H, Dk, Dv]
 * @returns dq, dk [B, T, H, Dk]; dv [B, T, H, Dv]; dAlpha, dBeta [B, T, H]; dS0 [B, H, Dk, Dv]
 */
export function deltaRuleBackward<A extends FloatArray>(
  x: DeltaRuleInputs<A>,
  g: DeltaRuleGradOutputs<A>,
  opts: DeltaRuleKernelOptions = {},
): DeltaRuleGrads<A> {
  const op = 'deltaRuleBackward';
  const { chunkSize, snapshot, erase } = deltaRuleOptions(op, opts);
  checkDeltaRuleInputs(op, x);
  checkDeltaRuleGradOutputs(op, x.shape, g);
  checkSameDtype(op, {
    q: x.q,
    k: x.k,
    v: x.v,
    alpha: x.alpha,
    beta: x.beta,
    s0: x.s0,
    dO: g.dO,
    dState: g.dState,
  });
  const { batch: B, seqLen: T, heads: H, dk, dv } = x.shape;
  const out: DeltaRuleGrads<A> = {
    dq: allocLike(x.q, B * T * H * dk),
    dk: allocLike(x.q, B * T * H * dk),
    dv: allocLike(x.q, B * T * H * dv),
    dAlpha: allocLike(x.q, B * T * H),
    dBeta: allocLike(x.q, B * T * H),
    dS0: allocLike(x.q, B * H * dk * dv),
  };
  native.deltaRuleBackward(
    { q: x.q, k: x.k, v: x.v, alpha: x.alpha, beta: x.beta, s0: x.s0 ?? null, dO: g.dO, dState: g.dState ?? null, ...out },
    { batch: B, seqLen: T, heads: H, dk, dv, chunkSize, snapshot, erase },
  ); // prettier-ignore
  return out;
}
