/**
 * The N-API surface of the fused batch-1 decode steps (native/src/binding/decode.cc, maths in
 * native/src/cpu/decode.h). Same conventions as ./memory.ts: `(arrays, dims)` structs, one dtype
 * per call (Float32Array or Float64Array), caller-allocated outputs, unknown fields rejected, errors
 * naming the op, the struct and the field.
 *
 * Shapes: n tokens of the step, D width, H heads, F SwiGLU width, V vocabulary. x [n, D]; wq, wk,
 * wv, wo [D, D]; wGate, wUp [F, D]; wDown [D, F]; norms [D]; kCache, vCache [H, capacity, D/H];
 * head [V, D]; logits [n, V].
 */
type FloatArray = Float32Array | Float64Array;

/** Sizes of a `decodeAttentionBlock` call. */
export interface AttentionDecodeDims {
  tokens: number;
  d: number;
  heads: number;
  hidden: number;
  /** Tokens already in the cache (the RoPE position of the first new token). */
  position: number;
  /** Rows per head of the caches (>= position + tokens). */
  capacity: number;
  /** RMSNorm epsilon (> 0). */
  eps: number;
  /** RoPE base (> 0). */
  ropeBase: number;
}

/** Operands of `decodeAttentionBlock`: x is updated in place, the caches get rows position.. */
export interface AttentionDecodeArrays {
  x: FloatArray;
  norm1: FloatArray;
  wq: FloatArray;
  wk: FloatArray;
  wv: FloatArray;
  wo: FloatArray;
  norm2: FloatArray;
  wGate: FloatArray;
  wUp: FloatArray;
  wDown: FloatArray;
  kCache: FloatArray;
  vCache: FloatArray;
}

/** Sizes of a `decodeHead` call. */
export interface HeadDecodeDims {
  tokens: number;
  d: number;
  vocab: number;
  eps: number;
}

/** Operands of `decodeHead`: logits = RMSNorm(x; norm) · headᵀ. */
export interface HeadDecodeArrays {
  x: FloatArray;
  norm: FloatArray;
  head: FloatArray;
  logits: FloatArray;
}

/** Sizes of a `decodeDeltaNetBlock` call. */
export interface DeltaNetDecodeDims {
  tokens: number;
  d: number;
  heads: number;
  hidden: number;
  /** Conv window K (the cache holds K − 1 rows). */
  window: number;
  /** RMSNorm epsilon of the block norms and the per-head output norm (> 0). */
  eps: number;
}

/**
 * Operands of `decodeDeltaNetBlock`: wQkv [3D, D], conv [3D, K], wAlpha, wBeta [H, D], aLog, dtBias
 * [H], outNorm [D/H], wGateOut, wOut [D, D], the MLP as above; x, convCache [K − 1, 3D] and memory
 * [H, D/H, D/H] (M = Sᵀ) are updated in place.
 */
export interface DeltaNetDecodeArrays {
  x: FloatArray;
  norm1: FloatArray;
  wQkv: FloatArray;
  conv: FloatArray;
  wAlpha: FloatArray;
  wBeta: FloatArray;
  aLog: FloatArray;
  dtBias: FloatArray;
  outNorm: FloatArray;
  wGateOut: FloatArray;
  wOut: FloatArray;
  norm2: FloatArray;
  wGate: FloatArray;
  wUp: FloatArray;
  wDown: FloatArray;
  convCache: FloatArray;
  memory: FloatArray;
}

/** Sizes of a `decodeTitansBlock` call. */
export interface TitansDecodeDims {
  tokens: number;
  d: number;
  heads: number;
  hidden: number;
  /** Hidden width M of the memory MLP per head. */
  memoryHidden: number;
  /** Conv window K (the cache holds K − 1 rows). */
  window: number;
  /** Memory mini-batch chunk size C. */
  chunkSize: number;
  /** Tokens consumed so far: at positions divisible by C the anchors take the weights. */
  position: number;
  /** RMSNorm epsilon of the block norms and the per-head output norm (> 0). */
  eps: number;
  /** Gate bounds (> 0): θ, η, α = max · sigmoid(h Wᵀ + b). */
  thetaMax: number;
  etaMax: number;
  alphaMax: number;
}

/**
 * Operands of `decodeTitansBlock`: wQkv [3D, D], conv [3D, K], wTheta, wEta, wAlpha [H, D], bTheta,
 * bEta, bAlpha [H], outNorm [D/H], wGateOut, wOut [D, D], the MLP as above; x, convCache [K − 1, 3D]
 * and memory [6, H, D/H · M] are updated in place. memory stacks the memory MLP's state: weights
 * w1 [H, D/H, M], w2 [H, M, D/H], their momenta s1, s2 and chunk-start anchors a1, a2 (same shapes).
 */
export interface TitansDecodeArrays {
  x: FloatArray;
  norm1: FloatArray;
  wQkv: FloatArray;
  conv: FloatArray;
  wTheta: FloatArray;
  bTheta: FloatArray;
  wEta: FloatArray;
  bEta: FloatArray;
  wAlpha: FloatArray;
  bAlpha: FloatArray;
  outNorm: FloatArray;
  wGateOut: FloatArray;
  wOut: FloatArray;
  norm2: FloatArray;
  wGate: FloatArray;
  wUp: FloatArray;
  wDown: FloatArray;
  convCache: FloatArray;
  memory: FloatArray;
}

/** The decode entry points of the addon. */
export interface DecodeBinding {
  /**
   * One pre-norm Transformer++ block (RMSNorm, QKV, RoPE, KV-cache append, causal attention over
   * the cache, output projection, residual, RMSNorm, SwiGLU, residual) over n new tokens.
   */
  decodeAttentionBlock(arrays: AttentionDecodeArrays, dims: AttentionDecodeDims): void;
  /** The final RMSNorm and LM head over n rows. */
  decodeHead(arrays: HeadDecodeArrays, dims: HeadDecodeDims): void;
  /**
   * One gated-DeltaNet block (RMSNorm, qkv projection, causal conv + SiLU, ℓ2 norms, α/β gates,
   * delta-rule write and read per head, output norm ⊙ SiLU gate, W_o, residual, SwiGLU half).
   */
  decodeDeltaNetBlock(arrays: DeltaNetDecodeArrays, dims: DeltaNetDecodeDims): void;
  /**
   * One TitansLM block (RMSNorm, qkv projection, causal conv + SiLU, ℓ2 norms, θ/η/α gates, the
   * memory MLP's one-token write — chunk-start anchors, momenta, forget — and read per head,
   * output norm ⊙ SiLU gate, W_o, residual, SwiGLU half).
   */
  decodeTitansBlock(arrays: TitansDecodeArrays, dims: TitansDecodeDims): void;
}
