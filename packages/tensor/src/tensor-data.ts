/**
 * Reading tensor data out to the host, always through the tensor's backend: dataSync (a
 * contiguous copy; on the CPU one memcpy), data (the same, async), toArray (nested arrays),
 * item (a number). Non-contiguous tensors are first gathered on their device.
 */
import type { TypedArray } from './dtype.js';
import type { Tensor, NestedArray } from './tensor.js';
import { runKernel } from './device.js';
import type { CopyKernel } from './backends/cpu-kernels.js';
import { empty_, viewOf } from './ops/helpers.js';
import { fmtShape } from './shape.js';

/** Runs `read` on a contiguous version of `t` (gathered on its device when needed). */
function withContiguous<T>(t: Tensor, read: (c: Tensor) => T): T {
  if (t.isContiguous) return read(t);
  const c = empty_(t.shape, t.dtype, t.device, false);
  try {
    runKernel<CopyKernel>('copy', t.device, c.storage.buffer, t.shape, viewOf(t));
    return read(c);
  } finally {
    c.dispose();
  }
}

/** A contiguous host copy of the elements (row-major). */
export function dataSync(t: Tensor): TypedArray {
  t.assertLive('dataSync');
  return withContiguous(t, (c) => c.storage.backend.toHost(c.storage.buffer, c.dtype, c.offset, c.numel));
}

/** A contiguous host copy of the elements, without blocking on a device queue. */
export function data(t: Tensor): Promise<TypedArray> {
  try {
    t.assertLive('data');
    return withContiguous(t, (c) =>
      c.storage.backend.toHostAsync(c.storage.buffer, c.dtype, c.offset, c.numel),
    );
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Nested JS arrays (a number for 0-d tensors). */
export function toArray(t: Tensor): NestedArray {
  const flat = dataSync(t);
  if (t.ndim === 0) return flat[0];
  let pos = 0;
  const build = (d: number): NestedArray => {
    const n = t.shape[d];
    const out: NestedArray[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = d === t.ndim - 1 ? flat[pos++] : build(d + 1);
    return out;
  };
  return build(0);
}

/** The single value of a one-element tensor. */
export function item(t: Tensor): number {
  t.assertLive('item');
  if (t.numel !== 1)
    throw new RangeError(
      `item: tensor has ${t.numel} elements (shape ${fmtShape(t.shape)}); item() needs exactly 1`,
    );
  return t.storage.backend.toHost(t.storage.buffer, t.dtype, t.offset, 1)[0];
}
