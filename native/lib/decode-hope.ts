/**
 * The N-API surface of the fused batch-1 HopeLM block decode (native/src/binding/decode_hope.cc,
 * maths in native/src/cpu/decode_hope.h). Same conventions as ./decode.ts: `(arrays, dims)`
 * structs, one dtype per call, unknown fields rejected, errors naming the op, struct and field.
 *
 * Shapes: n tokens, D width, H heads (Dd = D/H), Dm the memories' hidden width, Hc the CMS width,
 * L CMS levels, K the conv window.
 */
type FloatArray = Float32Array | Float64Array;

/** Sizes and options of a `decodeHopeBlock` call. */
export interface HopeDecodeDims {
  tokens: number;
  d: number;
  heads: number;
  /** Dm: hidden width of the self-modifying memories. */
  memHidden: number;
  /** Hc: hidden width of the CMS levels. */
  cmsHidden: number;
  /** L: CMS levels (fields cmsW1_ℓ .. cmsD2_ℓ for ℓ < L). */
  levels: number;
  /** Conv window K (the cache holds K − 1 rows). */
  window: number;
  /** The memories' token count before the first new token (chunk snapshots at its multiples). */
  position: number;
  chunkMem: number;
  chunkOther: number;
  momentum: number;
  alphaBias: number;
  etaBias: number;
  /** RMSNorm epsilon of norm1, the per-head output norm and norm2 (> 0). */
  eps: number;
  /** Inner-gradient clip of the memories' writes (SelfModifyingConfig.innerGradClip; default 0 = off). */
  innerGradClip?: number;
  /** Memories frozen: no snapshots or writes, the read uses the current weights (default false). */
  frozen?: boolean;
  /** Recompute the snapshot transposes in `mems` first (after the caller wrote a1, a2; default false). */
  refresh?: boolean;
}

/**
 * Operands of `decodeHopeBlock`: norms [D], conv [D, K], convBias [D] (optional), wq, wg, wo
 * [D, D], outNorm [Dd]; per CMS level ℓ: `cmsW1_ℓ` [Hc, D], `cmsW2_ℓ` [D, Hc] and their fast
 * deltas `cmsD1_ℓ`, `cmsD2_ℓ` (optional: absent = zero). x [n, D], convCache [K − 1, D] and mems
 * [5, 8, H, Dd·Dm] (memories k, v, eta, alpha, mem × states w1, w2, s1, s2, a1, a2 and the
 * snapshots' transposes a1ᵀ [Dm, Dd], a2ᵀ [Dd, Dm] kept by the step; w1, s1, a1 per head [Dd, Dm],
 * w2, s2, a2 [Dm, Dd]) are updated in place.
 */
export interface HopeDecodeArrays {
  x: FloatArray;
  norm1: FloatArray;
  conv: FloatArray;
  convBias?: FloatArray | null;
  wq: FloatArray;
  outNorm: FloatArray;
  wg: FloatArray;
  wo: FloatArray;
  norm2: FloatArray;
  convCache: FloatArray;
  mems: FloatArray;
  [cmsField: `cms${'W1' | 'D1' | 'W2' | 'D2'}_${number}`]: FloatArray | null | undefined;
}

/** The Hope decode entry point of the addon. */
export interface HopeDecodeBinding {
  /**
   * One HopeLM block over n new tokens: RMSNorm, causal conv on the cache, W_q, per-head ℓ2
   * norms, the self-modifying memories' one-token steps (snapshots, momentum, in place), output
   * norm ⊙ SiLU gate, W_o, residual, RMSNorm, the static CMS read (θ0 + Δ), residual.
   */
  decodeHopeBlock(arrays: HopeDecodeArrays, dims: HopeDecodeDims): void;
}
