/**
 * Inputs, outputs and checks of the Titans linear-memory chunk kernels (reference and native).
 *
 * Mini-batch semantics (shared/docs/kernels.md §5.2, nested-learning.md §3), per batch and head,
 * with a linear memory M ∈ R^{Dv×Dk} (read y = M q) and momentum S ∈ R^{Dv×Dk}:
 *   u_t = ∇_M ½‖M_{t'} k_t − v_t‖² = (M_{t'} k_t − v_t) k_tᵀ    t' = start of t's chunk of C tokens
 *   S_t = η_t S_{t−1} − θ_t u_t                                  momentum (η: surprise decay, θ: lr)
 *   M_t = (1 − α_t) M_{t−1} + S_t                                forget gate α
 *   o_t = M_t q_t          (readAfterWrite = true, default: the per-token state, spec A6)
 *   o_t = M_{t−1} q_t      (readAfterWrite = false: read before this token's write)
 * The chunk size C is a model hyperparameter here: C = 1 is plain online GD with momentum;
 * larger C takes every inner gradient of a chunk at the chunk-start state.
 */
import {
  checkArray,
  checkChunkSize,
  checkFinite,
  checkShape,
  type FloatArray,
  type SeqShape,
} from '../shape.js';

/** Inputs of one Titans linear-memory call. */
export interface TitansLinearInputs<A extends FloatArray = FloatArray> {
  /** Queries [B, T, H, Dk]. */
  q: A;
  /** Keys [B, T, H, Dk]. */
  k: A;
  /** Values [B, T, H, Dv]. */
  v: A;
  /** Inner learning rate θ [B, T, H]. */
  theta: A;
  /** Momentum decay η [B, T, H]. */
  eta: A;
  /** Forget gate α [B, T, H]. */
  alpha: A;
  /** Initial memory M0 [B, H, Dv, Dk]; zeros when omitted. */
  m0?: A;
  /** Initial momentum S0 [B, H, Dv, Dk]; zeros when omitted. */
  s0?: A;
  shape: SeqShape;
}

/** Options shared by the reference and the native kernel. */
export interface TitansLinearOptions {
  /** Mini-batch chunk size C (inner gradients at the chunk-start state). Default 64. */
  chunkSize?: number;
  /** o_t = M_t q_t (true, default) or o_t = M_{t−1} q_t (false). */
  readAfterWrite?: boolean;
}

/** Forward results. */
export interface TitansLinearOutputs<A extends FloatArray = FloatArray> {
  /** Outputs [B, T, H, Dv]. */
  o: A;
  /** Final memory M_T [B, H, Dv, Dk]. */
  m: A;
  /** Final momentum S_T [B, H, Dv, Dk]. */
  s: A;
}

/** Upstream gradients for the backward pass. */
export interface TitansLinearGradOutputs<A extends FloatArray = FloatArray> {
  /** dL/do [B, T, H, Dv]. */
  dO: A;
  /** dL/dM_T [B, H, Dv, Dk]; zeros when omitted. */
  dM?: A;
  /** dL/dS_T [B, H, Dv, Dk]; zeros when omitted. */
  dS?: A;
}

/** Gradients of every input. */
export interface TitansLinearGrads<A extends FloatArray = FloatArray> {
  dq: A;
  dk: A;
  dv: A;
  dTheta: A;
  dEta: A;
  dAlpha: A;
  /** dL/dM0 [B, H, Dv, Dk]. */
  dM0: A;
  /** dL/dS0 [B, H, Dv, Dk]. */
  dS0: A;
}

/** Resolved options (defaults applied, chunk size checked). */
export function titansOptions(op: string, opts: TitansLinearOptions): Required<TitansLinearOptions> {
  const chunkSize = opts.chunkSize ?? 64;
  checkChunkSize(op, chunkSize);
  return { chunkSize, readAfterWrite: opts.readAfterWrite ?? true };
}

/** Checks every input of a Titans linear-memory call; throws naming the first problem. */
export function checkTitansInputs(op: string, x: TitansLinearInputs): void {
  checkShape(op, x.shape);
  const { batch: B, seqLen: T, heads: H, dk, dv } = x.shape;
  checkArray(op, 'q', x.q, [B, T, H, dk]);
  checkArray(op, 'k', x.k, [B, T, H, dk]);
  checkArray(op, 'v', x.v, [B, T, H, dv]);
  for (const g of ['theta', 'eta', 'alpha'] as const) {
    checkArray(op, g, x[g], [B, T, H]);
    checkFinite(op, g, x[g], x.shape);
  }
  if (x.m0 !== undefined) checkArray(op, 'm0', x.m0, [B, H, dv, dk]);
  if (x.s0 !== undefined) checkArray(op, 's0', x.s0, [B, H, dv, dk]);
}

/** Checks the upstream gradients of a Titans backward call. */
export function checkTitansGradOutputs(op: string, shape: SeqShape, g: TitansLinearGradOutputs): void {
  const { batch: B, seqLen: T, heads: H, dk, dv } = shape;
  checkArray(op, 'dO', g.dO, [B, T, H, dv]);
  if (g.dM !== undefined) checkArray(op, 'dM', g.dM, [B, H, dv, dk]);
  if (g.dS !== undefined) checkArray(op, 'dS', g.dS, [B, H, dv, dk]);
}
