/**
 * Reading tensor data out: dataSync (contiguous copy), toArray (nested arrays), item (a number).
 */
import type { TypedArray } from './dtype.js';
import type { Tensor, NestedArray } from './tensor.js';
import { copyKernel } from './kernels/elementwise.js';
import { allocArray } from './dtype.js';
import { broadcastStrides, fmtShape } from './shape.js';

/** A contiguous copy of the elements (row-major). */
export function dataSync(t: Tensor): TypedArray {
  t.assertLive('dataSync');
  if (t.device !== 'cpu') throw new Error(`dataSync: reading from ${t.device} is not implemented`);
  const out = allocArray(t.dtype, t.numel);
  copyKernel(out, t.shape, {
    data: t.storage.data,
    offset: t.offset,
    strides: broadcastStrides(t.shape, t.strides, t.shape),
  });
  return out;
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
  return t.storage.data[t.offset];
}
