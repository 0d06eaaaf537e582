/**
 * Inputs, outputs and checks of the gated delta rule kernels (reference and native).
 *
 * Recurrence (fla convention, decay first then error), per batch b and head h:
 *   S_t = α_t (I − β_t k_t k_tᵀ) S_{t−1} + β_t k_t v_tᵀ      S ∈ R^{Dk×Dv}
 *   o_t = S_tᵀ q_t                                           (read after write)
 * Gates are given directly (not in log space): α_t is the decay (1 = keep, 0 = forget all),
 * β_t the write strength. Callers holding a log-decay g pass α = exp(g) (then dg = α·dα).
 *
 * Snapshot correction (option `snapshot`, Hope's ℓ2 rule at the chunk-start state,
 * nested-learning.md §4.3): v_t is replaced by v_t − α_t S_ξᵀ k_t, S_ξ = the state at the start of
 * t's chunk of `chunkSize` tokens. The kernel then has mini-batch semantics: the result depends on
 * the chunk size, and the reference must be run with the same one.
 */
import {
  checkArray,
  checkChunkSize,
  checkFinite,
  checkShape,
  type FloatArray,
  type SeqShape,
} from '../shape.js';

/** Inputs of one gated-delta-rule call. */
export interface DeltaRuleInputs<A extends FloatArray = FloatArray> {
  /** Queries [B, T, H, Dk]. */
  q: A;
  /** Keys [B, T, H, Dk] (usually L2-normalised). */
  k: A;
  /** Values [B, T, H, Dv]. */
  v: A;
  /** Decay gate α [B, T, H]. */
  alpha: A;
  /** Write strength β [B, T, H]. */
  beta: A;
  /** Initial state S0 [B, H, Dk, Dv]; zeros when omitted. */
  s0?: A;
  shape: SeqShape;
}

/** Forward results. */
export interface DeltaRuleOutputs<A extends FloatArray = FloatArray> {
  /** Outputs o [B, T, H, Dv]. */
  o: A;
  /** Final state S_T [B, H, Dk, Dv]. */
  state: A;
}

/** Upstream gradients for the backward pass. */
export interface DeltaRuleGradOutputs<A extends FloatArray = FloatArray> {
  /** dL/do [B, T, H, Dv]. */
  dO: A;
  /** dL/dS_T [B, H, Dk, Dv]; zeros when omitted. */
  dState?: A;
}

/** Gradients of every input. */
export interface DeltaRuleGrads<A extends FloatArray = FloatArray> {
  dq: A;
  dk: A;
  dv: A;
  /** dL/dα [B, T, H] (with respect to α itself, not log α). */
  dAlpha: A;
  dBeta: A;
  /** dL/dS0 [B, H, Dk, Dv]. */
  dS0: A;
}

/** Options shared by the reference and the native kernel. */
export interface DeltaRuleOptions {
  /** Tokens per chunk (default 64). Exact tiling: no effect on the result unless `snapshot`. */
  chunkSize?: number;
  /** Subtract α_t S_ξᵀ k_t from each value (S_ξ = chunk-start state). Default false. */
  snapshot?: boolean;
  /**
   * Keep the erase term −α_t β_t k_t k_tᵀ S_{t−1} (default true). false gives gated (decayed
   * Hebbian) linear attention S_t = α_t S_{t−1} + β_t k_t v_tᵀ; α = β = 1 is plain linear attention.
   */
  erase?: boolean;
}

/** Resolved options (defaults applied, chunk size checked). */
export function deltaRuleOptions(op: string, opts: DeltaRuleOptions): Required<DeltaRuleOptions> {
  const chunkSize = opts.chunkSize ?? 64;
  checkChunkSize(op, chunkSize);
  return { chunkSize, snapshot: opts.snapshot ?? false, erase: opts.erase ?? true };
}

/** Checks every input of a delta-rule call; throws an error naming the first problem. */
export function checkDeltaRuleInputs(op: string, x: DeltaRuleInputs): void {
  checkShape(op, x.shape);
  const { batch: B, seqLen: T, heads: H, dk, dv } = x.shape;
  checkArray(op, 'q', x.q, [B, T, H, dk]);
  checkArray(op, 'k', x.k, [B, T, H, dk]);
  checkArray(op, 'v', x.v, [B, T, H, dv]);
  checkArray(op, 'alpha', x.alpha, [B, T, H]);
  checkArray(op, 'beta', x.beta, [B, T, H]);
  if (x.s0 !== undefined) checkArray(op, 's0', x.s0, [B, H, dk, dv]);
  checkFinite(op, 'alpha', x.alpha, x.shape);
  checkFinite(op, 'beta', x.beta, x.shape);
}

/** Checks the upstream gradients of a delta-rule backward call. */
export function checkDeltaRuleGradOutputs(op: string, shape: SeqShape, g: DeltaRuleGradOutputs): void {
  const { batch: B, seqLen: T, heads: H, dk, dv } = shape;
  checkArray(op, 'dO', g.dO, [B, T, H, dv]);
  if (g.dState !== undefined) checkArray(op, 'dState', g.dState, [B, H, dk, dv]);
}
