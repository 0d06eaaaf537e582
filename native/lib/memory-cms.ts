/**
 * The N-API surface of the Continuum Memory System kernels (native/src/binding/memory_cms.cc,
 * maths in native/src/cpu/cms.h). Same conventions as ./memory.ts: `(arrays, dims)` structs, one
 * dtype per call, caller-allocated outputs, fields named per level with a `_ℓ` suffix
 * (`w1_0`, `w1_1`, ..., `chunkSize_0`, ...).
 *
 * Shapes: B batch, T seqLen, D width, Dh hidden, L levels. x, y, dy, dx [B, T, D]; xs, probe, err,
 * dprobe [L, B, T, D]; hs, ss [L, B, T, Dh] (pre-activations h, sigmoid(h)); per-level w1_ℓ, d1_ℓ, g1_ℓ [Dh, D] and w2_ℓ, d2_ℓ, g2_ℓ
 * [D, Dh]; stacked w1e, dw1 [L, Dh, D] and w2e, dw2 [L, D, Dh]; agg, dagg [L].
 */
type FloatArray = Float32Array | Float64Array;
type Opt = FloatArray | null | undefined;

/** Sizes and variant of a CMS call. */
export interface CmsDims {
  batch: number;
  seqLen: number;
  d: number;
  hidden: number;
  levels: number;
  /** 'independent' variant (levels read x, outputs weighted by agg); else a chain. */
  independent: boolean;
}

/** cmsObserve dims: the schedule as host integers, per level `chunkSize_ℓ`, `pending_ℓ` (< chunk), `lr_ℓ`. */
export type CmsObserveDims = CmsDims & { nested: boolean } & Record<string, number | boolean>;

/**
 * cmsForward: reads x, per-level `w1_ℓ`, `d1_ℓ`, `w2_ℓ`, `d2_ℓ`, agg (independent), probe (optional);
 * writes y, xs (chain variants), hs, ss, w1e, w2e.
 */
export type CmsForwardArrays = Record<string, Opt>;

/** cmsBackward: the forward's saved arrays and dy; writes dx, dw1, dw2, dagg (independent), dprobe (optional). */
export interface CmsBackwardArrays {
  x: FloatArray;
  xs?: Opt;
  hs: FloatArray;
  ss: FloatArray;
  w1e: FloatArray;
  w2e: FloatArray;
  agg?: Opt;
  probe?: Opt;
  dy: FloatArray;
  dx: FloatArray;
  dw1: FloatArray;
  dw2: FloatArray;
  dagg?: Opt;
  dprobe?: Opt;
}

/**
 * cmsObserve: reads x (independent) or xs (chain), hs, ss, w2e, err, optional inc1 [L, Dh, D] and inc2
 * [L, D, Dh] (the backward's weight gradients when err are its error signals: a level with no fire
 * inside the call adds them to G instead of recomputing them) and per-level `d1_ℓ`, `d2_ℓ`,
 * `g1_ℓ`, `g2_ℓ`; writes the updated states to `d1Out_ℓ`, `d2Out_ℓ`, `g1Out_ℓ`, `g2Out_ℓ`.
 */
export type CmsObserveArrays = Record<string, Opt>;

/** The CMS entry points of the addon. */
export interface CmsBinding {
  cmsForward(arrays: CmsForwardArrays, dims: CmsDims): void;
  cmsBackward(arrays: CmsBackwardArrays, dims: CmsDims): void;
  cmsObserve(arrays: CmsObserveArrays, dims: CmsObserveDims): void;
}
