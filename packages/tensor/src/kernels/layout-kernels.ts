/**
 * CPU kernels that write strided regions: `assign` (dst view = src view: cat, pad, slice backward,
 * copy_), `fillView` (fill_ on a strided view), `prodBackward`. Registered under 'cpu'.
 */
import type { Tensor } from '../tensor.js';
import { registerKernel } from '../backend/registry.js';
import { assignStrided } from './strided-write.js';
import { elementsOf, storageOf } from './host.js';

/**
 * dst storage [dOffset + idx . dStrides] = src[idx] for every index of `src.shape` (src strided,
 * already broadcast by the caller through `srcStrides`); `snapshot` reads src from a copy first
 * (when it overlaps dst).
 */
export type AssignKernel = (
  dst: Tensor,
  dOffset: number,
  dStrides: readonly number[],
  src: Tensor,
  srcStrides: readonly number[],
  shape: readonly number[],
  snapshot: boolean,
) => void;

const assign: AssignKernel = (dst, dOffset, dStrides, src, srcStrides, shape, snapshot) => {
  const s = storageOf(src);
  assignStrided(storageOf(dst), dOffset, dStrides, snapshot ? s.slice() : s, src.offset, srcStrides, shape);
};

/** Every element of the (strided) view `t` = value. */
export type FillViewKernel = (t: Tensor, value: number) => void;
const fillView: FillViewKernel = (t, value) => {
  const d = storageOf(t);
  if (t.isContiguous) d.fill(value, t.offset, t.offset + t.numel);
  else {
    const src = new Float64Array([value]);
    assignStrided(
      d,
      t.offset,
      t.strides,
      src,
      0,
      t.shape.map(() => 0),
      t.shape,
    );
  }
};

/**
 * Gradient of prod over `dims`: out[i] = ge[i] * prod_{j in i's group, j != i} x[j], without
 * dividing (zeros allowed). `x` and `ge` (the upstream gradient expanded to x's shape) may be
 * strided; `out` is contiguous of x's shape.
 */
export type ProdBackwardKernel = (out: Tensor, x: Tensor, ge: Tensor, dims: readonly number[]) => void;
const prodBackward: ProdBackwardKernel = (out, x, geT, dims) => {
  const xs = elementsOf(x);
  const ge = elementsOf(geT);
  const strides = x.shape.map((_, d) => x.shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const n = xs.length;
  const groupKey = (i: number) => {
    let k = 0;
    for (let d = 0; d < x.ndim; d++)
      if (!dims.includes(d)) k = k * x.shape[d] + (Math.floor(i / strides[d]) % x.shape[d]);
    return k;
  };
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const k = groupKey(i);
    const list = groups.get(k);
    if (list) list.push(i);
    else groups.set(k, [i]);
  }
  const od = storageOf(out);
  for (const list of groups.values()) {
    for (const i of list) {
      let p = 1;
      for (const j of list) if (j !== i) p *= xs[j];
      od[i] = p * ge[i];
    }
  }
};

registerKernel('assign', 'cpu', assign);
registerKernel('fillView', 'cpu', fillView);
registerKernel('prodBackward', 'cpu', prodBackward);
