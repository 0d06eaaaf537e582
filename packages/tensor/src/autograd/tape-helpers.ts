/**
 * Kernels the tape needs directly (no recording): in-place accumulation into a gradient, contiguous
 * clones with a dtype change, and ones for the seed gradient.
 */
import type { DType } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import { backendFor } from '../device.js';
import { empty_, viewOf } from '../ops/helpers.js';

/** dst += src elementwise (dst contiguous; src same shape, any strides; dtypes may differ). */
export function addInto(dst: Tensor, src: Tensor): void {
  // the gradient buffers this module creates start at offset 0 (any device); others are CPU views
  const out = dst.offset === 0 && dst.isContiguous ? dst.storage.data : dst.rawView();
  backendFor(dst.device).binary('add', out, dst.shape, viewOf(dst), viewOf(src, dst.shape));
}

/** A contiguous tracked copy of `t` as `dtype`. */
export function cloneContiguous(t: Tensor, dtype: DType): Tensor {
  const out = empty_(t.shape, dtype, t.device, false);
  backendFor(t.device).copy(out.storage.data, t.shape, viewOf(t));
  return out;
}

/** `t` itself when it already has `dtype`, else a converted copy. */
export function castTo(t: Tensor, dtype: DType): Tensor {
  return t.dtype === dtype ? t : cloneContiguous(t, dtype);
}

/** A tensor of ones shaped like `t`. */
export function onesLike(t: Tensor): Tensor {
  const out = empty_(t.shape, t.dtype, t.device, false);
  out.storage.data.fill(1);
  return out;
}
