/**
 * Strided assignment: dst[view] = src[view] over `shape`, both sides with arbitrary strides (the
 * destination may be a slice of a larger buffer). Used by cat, pad and the backward of slicing.
 * Also the [outer, n, inner] decomposition that "along a dim" kernels work on.
 */
import type { TypedArray } from '../dtype.js';
import { collapseDims, numelOf } from '../shape.js';

/** dst[dOff + idx.dStrides] = src[sOff + idx.sStrides] for every index of `shape`. */
export function assignStrided(
  dst: TypedArray,
  dOff: number,
  dStrides: readonly number[],
  src: TypedArray,
  sOff: number,
  sStrides: readonly number[],
  shape: readonly number[],
): void {
  const n = numelOf(shape);
  if (n === 0) return;
  const c = collapseDims(shape, [dStrides, sStrides]);
  const dims = c.shape;
  const [ds, ss] = c.strides;
  const nd = dims.length;
  const inner = dims[nd - 1];
  const di = ds[nd - 1];
  const si = ss[nd - 1];
  const idx = new Array<number>(nd).fill(0);
  let pd = dOff;
  let ps = sOff;
  for (let o = 0; o < n; o += inner) {
    if (di === 1 && si === 1) for (let i = 0; i < inner; i++) dst[pd + i] = src[ps + i];
    else for (let i = 0; i < inner; i++) dst[pd + i * di] = src[ps + i * si];
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      pd += ds[d];
      ps += ss[d];
      if (idx[d] < dims[d]) break;
      pd -= ds[d] * dims[d];
      ps -= ss[d] * dims[d];
      idx[d] = 0;
    }
  }
}

/** Sizes of a contiguous tensor seen as [outer, n, inner] around `dim`. */
export function aroundDim(
  shape: readonly number[],
  dim: number,
): { outer: number; n: number; inner: number } {
  return {
    outer: numelOf(shape.slice(0, dim)),
    n: shape[dim] ?? 1,
    inner: numelOf(shape.slice(dim + 1)),
  };
}
