/**
 * Kernels the tape needs directly (no recording): in-place accumulation into a gradient, contiguous
 * clones with a dtype change, and ones for the seed gradient. All run through the kernel registry.
 */
import type { DType } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import { runKernel } from '../device.js';
import type { BinaryKernel, CopyKernel, FillKernel } from '../backends/cpu-kernels.js';
import { empty_, viewOf } from '../ops/helpers.js';

/** dst += src elementwise (dst contiguous; src same shape, any strides; dtypes may differ). */
export function addInto(dst: Tensor, src: Tensor): void {
  if (!dst.isContiguous) throw new Error('addInto: the gradient buffer must be contiguous');
  const out = dst.storage.buffer;
  runKernel<BinaryKernel>(
    'binary',
    dst.device,
    'add',
    out,
    dst.shape,
    viewOf(dst),
    viewOf(src, dst.shape),
    dst.offset,
  );
}

/** A contiguous tracked copy of `t` as `dtype`. */
export function cloneContiguous(t: Tensor, dtype: DType): Tensor {
  const out = empty_(t.shape, dtype, t.device, false);
  runKernel<CopyKernel>('copy', t.device, out.storage.buffer, t.shape, viewOf(t));
  return out;
}

/** `t` itself when it already has `dtype`, else a converted copy. */
export function castTo(t: Tensor, dtype: DType): Tensor {
  return t.dtype === dtype ? t : cloneContiguous(t, dtype);
}

/** A tensor of ones shaped like `t`. */
export function onesLike(t: Tensor): Tensor {
  const out = empty_(t.shape, t.dtype, t.device, false);
  runKernel<FillKernel>('fill', t.device, out.storage.buffer, 0, t.numel, 1);
  return out;
}
