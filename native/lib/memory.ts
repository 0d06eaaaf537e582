/**
 * The N-API surface of the @nl/memory kernels (native/src/binding/memory_*.cc). Every entry point
 * takes two structs: `arrays` (named typed arrays, one dtype per call: Float32Array or
 * Float64Array; outputs are caller-allocated and overwritten; fields marked optional may be
 * absent or null, meaning zeros) and `dims` (sizes and options). The binding reads fields by name
 * and throws a TypeError / RangeError naming the op, the struct and the field
 * ("nl.titansMlpBackward: dims.hidden is missing (expected an integer >= 1)"), and rejects fields
 * it does not know. A CUDA entry point of the same family takes the same structs.
 *
 * Shapes: B batch, T seqLen, H heads; Dk, Dv key / value widths; D = Dk = Dv and Dh hidden for
 * the MLP memories; M memories of a self-modifying layer.
 */
import type { CmsBinding } from './memory-cms.js';

export type * from './memory-cms.js';

type FloatArray = Float32Array | Float64Array;
type Opt = FloatArray | null | undefined;

// ---- gated delta rule (cpu/delta_rule.h) ------------------------------------------------------

/** Sizes and options of the gated delta rule. */
export interface DeltaRuleDims {
  batch: number;
  seqLen: number;
  heads: number;
  dk: number;
  dv: number;
  chunkSize: number;
  /** Subtract α_t S_ξᵀ k_t from each value (S_ξ the chunk-start state); default false. */
  snapshot?: boolean;
  /** false drops the erase term (gated linear attention); default true. */
  erase?: boolean;
}
/** q, k [B, T, H, Dk]; v [B, T, H, Dv]; alpha, beta [B, T, H]; s0 [B, H, Dk, Dv]. */
export interface DeltaRuleInputArrays {
  q: FloatArray;
  k: FloatArray;
  v: FloatArray;
  alpha: FloatArray;
  beta: FloatArray;
  s0?: Opt;
}
/** Forward: writes o [B, T, H, Dv] and the final state [B, H, Dk, Dv]. */
export interface DeltaRuleForwardArrays extends DeltaRuleInputArrays {
  o: FloatArray;
  state: FloatArray;
}
/** Backward: reads dO (and dState); writes the gradients of every input. */
export interface DeltaRuleBackwardArrays extends DeltaRuleInputArrays {
  dO: FloatArray;
  dState?: Opt;
  dq: FloatArray;
  dk: FloatArray;
  dv: FloatArray;
  dAlpha: FloatArray;
  dBeta: FloatArray;
  dS0: FloatArray;
}

// ---- Titans linear memory (cpu/titans_linear.h) -------------------------------------------------

/** Sizes and options of the Titans linear memory. */
export interface TitansLinearDims {
  batch: number;
  seqLen: number;
  heads: number;
  dk: number;
  dv: number;
  chunkSize: number;
  readAfterWrite: boolean;
}
/** q, k [B, T, H, Dk]; v [B, T, H, Dv]; theta, eta, alpha [B, T, H]; m0, s0 [B, H, Dv, Dk]. */
export interface TitansLinearInputArrays {
  q: FloatArray;
  k: FloatArray;
  v: FloatArray;
  theta: FloatArray;
  eta: FloatArray;
  alpha: FloatArray;
  m0?: Opt;
  s0?: Opt;
}
/** Forward: writes o [B, T, H, Dv], mOut and sOut [B, H, Dv, Dk]. */
export interface TitansLinearForwardArrays extends TitansLinearInputArrays {
  o: FloatArray;
  mOut: FloatArray;
  sOut: FloatArray;
}
/** Backward: reads dO, dM, dS; writes the gradients of every input. */
export interface TitansLinearBackwardArrays extends TitansLinearInputArrays {
  dO: FloatArray;
  dM?: Opt;
  dS?: Opt;
  dq: FloatArray;
  dk: FloatArray;
  dv: FloatArray;
  dTheta: FloatArray;
  dEta: FloatArray;
  dAlpha: FloatArray;
  dM0: FloatArray;
  dS0: FloatArray;
}

// ---- Titans MLP memory (cpu/titans_mlp.h) -------------------------------------------------------

/** Sizes and options of the Titans MLP memory (D = Dk = Dv). */
export interface TitansMlpDims {
  batch: number;
  seqLen: number;
  heads: number;
  d: number;
  hidden: number;
  chunkSize: number;
  readAfterWrite: boolean;
}
/** q, k, v [B, T, H, D]; theta, eta, alpha [B, T, H]; w1, s1 [B, H, D, Dh]; w2, s2 [B, H, Dh, D]. */
export interface TitansMlpInputArrays {
  q: FloatArray;
  k: FloatArray;
  v: FloatArray;
  theta: FloatArray;
  eta: FloatArray;
  alpha: FloatArray;
  w1: FloatArray;
  w2: FloatArray;
  s1?: Opt;
  s2?: Opt;
}
/** Forward: writes o and the final w1, w2, s1, s2. */
export interface TitansMlpForwardArrays extends TitansMlpInputArrays {
  o: FloatArray;
  w1Out: FloatArray;
  w2Out: FloatArray;
  s1Out: FloatArray;
  s2Out: FloatArray;
}
/** Backward: reads dO and the final-state gradients; writes the gradients of every input. */
export interface TitansMlpBackwardArrays extends TitansMlpInputArrays {
  dO: FloatArray;
  dW1?: Opt;
  dW2?: Opt;
  dS1?: Opt;
  dS2?: Opt;
  dq: FloatArray;
  dk: FloatArray;
  dv: FloatArray;
  dTheta: FloatArray;
  dEta: FloatArray;
  dAlpha: FloatArray;
  dW1Out: FloatArray;
  dW2Out: FloatArray;
  dS1Out: FloatArray;
  dS2Out: FloatArray;
}

// ---- SelfModifyingTitans (cpu/self_mod.h) -------------------------------------------------------

/** Sizes and options of the fused self-modifying memory. */
export interface SelfModDims {
  batch: number;
  seqLen: number;
  heads: number;
  d: number;
  hidden: number;
  /** Memories: 5 (k, v, eta, alpha, mem), 6 with adaptiveQ (+ q). */
  mems: number;
  /** Position of the call's first token (decides where chunks start). */
  tokens: number;
  chunkMem: number;
  chunkOther: number;
  /** Tokens per recompute block of the backward (0 or absent: automatic, about √(3T)). */
  block?: number;
  momentum: number;
  alphaBias: number;
  etaBias: number;
  adaptiveQ: boolean;
  readSnapshot: boolean;
  /** Chunk ("dual") form, CPU and CUDA: per piece GEMMs instead of per-token writes, same results (default true). */
  dual?: boolean;
  /**
   * Inner-gradient clip c (default 0 = off): each token's inner gradient of each memory scaled to
   * Frobenius norm ≤ c (native/src/cpu/self_mod_clip.h; CUDA: cuda/kernels/self_mod_clip_back.h and the
   * clip phase of self_mod_token.h).
   */
  innerGradClip?: number;
}
/** x, q, xv [B, T, H, D]; w1, s1, a1 [B, M, H, D, Dh]; w2, s2, a2 [B, M, H, Dh, D]. */
export interface SelfModInputArrays {
  x: FloatArray;
  q: FloatArray;
  /** A separate value input (CPU kernels only): generator v reads xv instead of x, v = M_v(xv). */
  xv?: Opt;
  w1: FloatArray;
  w2: FloatArray;
  s1: FloatArray;
  s2: FloatArray;
  a1: FloatArray;
  a2: FloatArray;
  /** Block-start states a forward keeps for the backward (B H ⌈T / block⌉ 6 M D Dh elements). */
  ckpt?: Opt;
}
/** Forward: writes o and the final states (and `ckpt` when given). */
export interface SelfModForwardArrays extends SelfModInputArrays {
  o: FloatArray;
  w1Out: FloatArray;
  w2Out: FloatArray;
  s1Out: FloatArray;
  s2Out: FloatArray;
  a1Out: FloatArray;
  a2Out: FloatArray;
}
/** Backward: reads dO and the final-state gradients; writes dx, dq and the initial-state gradients gW1..gA2. */
export interface SelfModBackwardArrays extends SelfModInputArrays {
  dO: FloatArray;
  dW1?: Opt;
  dW2?: Opt;
  dS1?: Opt;
  dS2?: Opt;
  dA1?: Opt;
  dA2?: Opt;
  dx: FloatArray;
  dq: FloatArray;
  /** xv's gradient [B, T, H, D]: required iff xv is given (x's gradient then has no share of generator v). */
  dxv?: Opt;
  gW1: FloatArray;
  gW2: FloatArray;
  gS1: FloatArray;
  gS2: FloatArray;
  gA1: FloatArray;
  gA2: FloatArray;
}

/** The memory-kernel entry points of the addon. */
export interface MemoryBinding extends CmsBinding {
  deltaRuleForward(arrays: DeltaRuleForwardArrays, dims: DeltaRuleDims): void;
  deltaRuleBackward(arrays: DeltaRuleBackwardArrays, dims: DeltaRuleDims): void;
  titansLinearForward(arrays: TitansLinearForwardArrays, dims: TitansLinearDims): void;
  titansLinearBackward(arrays: TitansLinearBackwardArrays, dims: TitansLinearDims): void;
  titansMlpForward(arrays: TitansMlpForwardArrays, dims: TitansMlpDims): void;
  titansMlpBackward(arrays: TitansMlpBackwardArrays, dims: TitansMlpDims): void;
  selfModForward(arrays: SelfModForwardArrays, dims: SelfModDims): void;
  selfModBackward(arrays: SelfModBackwardArrays, dims: SelfModDims): void;
}
