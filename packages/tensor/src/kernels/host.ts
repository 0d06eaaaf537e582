/**
 * How CPU kernels open their operands. Only files under src/kernels/ and src/backends/ (the CPU
 * backend) may call these; test/no-buffer-access.test.ts enforces it. On 'sim' they work only
 * inside a kernel dispatched by the registry.
 */
import type { TypedArray } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import type { KernelOperand } from '../device.js';
import { hostArray } from '../backend/host.js';
import { broadcastStrides } from '../shape.js';
import type { StridedView } from './elementwise.js';
import { copyKernel } from './elementwise.js';
import { allocArray } from '../dtype.js';

/** The whole host array of `t`'s storage (index it with t.offset and t.strides). */
export function storageOf(t: Tensor): TypedArray {
  return hostArray(t.storage.buffer);
}

/** A strided view of `t` broadcast to `shape`, for the elementwise kernels. */
export function stridedOf(t: Tensor, shape: readonly number[] = t.shape): StridedView {
  return { data: storageOf(t), offset: t.offset, strides: broadcastStrides(t.shape, t.strides, shape) };
}

/** Opens a kernel operand. */
export function openOperand(o: KernelOperand): StridedView {
  return { data: hostArray(o.buffer), offset: o.offset, strides: o.strides };
}

/** `t`'s elements in row-major order: the live storage when contiguous, else a gathered copy. */
export function elementsOf(t: Tensor): TypedArray {
  const data = storageOf(t);
  if (t.isContiguous) return data.subarray(t.offset, t.offset + t.numel);
  const out = allocArray(t.dtype, t.numel);
  copyKernel(out, t.shape, { data, offset: t.offset, strides: t.strides });
  return out;
}

/** The contiguous elements of a tensor an op just allocated (its whole buffer). */
export function outOf(t: Tensor): TypedArray {
  return storageOf(t);
}
