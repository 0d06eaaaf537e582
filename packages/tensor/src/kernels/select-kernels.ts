/**
 * CPU kernels of the selecting ops: where, indexSelect, indexAdd, gather, scatterAdd (and the
 * spread of scatterAdd's src gradient), topk indices and multinomial draws. Index values are
 * range-checked here, on the device, with the op's own error message. Registered under 'cpu'.
 */
import type { Tensor } from '../tensor.js';
import { registerKernel } from '../backend/registry.js';
import { broadcastStrides, collapseDims } from '../shape.js';
import type { Generator } from '../random.js';
import { aroundDim } from './strided-write.js';
import { elementsOf, storageOf } from './host.js';

function outOfRange(where: string, v: number, dim: number, size: number): never {
  throw new RangeError(`${where}: index ${v} is out of range for dim ${dim} of size ${size}`);
}

/** out (contiguous, broadcast shape) = cond != 0 ? a : b. */
export type WhereKernel = (out: Tensor, cond: Tensor, a: Tensor, b: Tensor) => void;
const where: WhereKernel = (out, cond, A, B) => {
  const shape = out.shape;
  const sc = broadcastStrides(cond.shape, cond.strides, shape);
  const sa = broadcastStrides(A.shape, A.strides, shape);
  const sb = broadcastStrides(B.shape, B.strides, shape);
  const col = collapseDims(shape, [sc, sa, sb]);
  const dims = col.shape;
  const [tc, ta, tb] = col.strides;
  const nd = dims.length;
  const o = storageOf(out);
  const cd = storageOf(cond);
  const ad = storageOf(A);
  const bd = storageOf(B);
  const idx = new Array<number>(nd).fill(0);
  let pc = cond.offset;
  let pa = A.offset;
  let pb = B.offset;
  const n = out.numel;
  const inner = dims[nd - 1];
  for (let i = 0; i < n; i += inner) {
    for (let j = 0; j < inner; j++)
      o[i + j] = cd[pc + j * tc[nd - 1]] !== 0 ? ad[pa + j * ta[nd - 1]] : bd[pb + j * tb[nd - 1]];
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      pc += tc[d];
      pa += ta[d];
      pb += tb[d];
      if (idx[d] < dims[d]) break;
      pc -= tc[d] * dims[d];
      pa -= ta[d] * dims[d];
      pb -= tb[d] * dims[d];
      idx[d] = 0;
    }
  }
};

/** out = rows of x along `dim` picked by the 1-D index (out zero-initialised, x any layout). */
export type IndexSelectKernel = (out: Tensor, x: Tensor, dim: number, index: Tensor) => void;
const indexSelect: IndexSelectKernel = (out, x, d, index) => {
  const idx = elementsOf(index);
  const size = x.shape[d] ?? 1;
  const { outer, inner } = aroundDim(x.shape, d);
  const src = elementsOf(x);
  const o = storageOf(out);
  const k = idx.length;
  for (let j = 0; j < k; j++) {
    let r = idx[j];
    if (r < 0) r += size;
    if (r < 0 || r >= size) outOfRange('indexSelect', idx[j], d, size);
    for (let p = 0; p < outer; p++) {
      const sBase = (p * size + r) * inner;
      const oBase = (p * k + j) * inner;
      for (let q = 0; q < inner; q++) o[oBase + q] = src[sBase + q];
    }
  }
};

/** out (a contiguous copy of x) += src rows at index positions along `dim`. */
export type IndexAddKernel = (out: Tensor, dim: number, index: Tensor, src: Tensor) => void;
const indexAdd: IndexAddKernel = (out, d, index, src) => {
  const idx = elementsOf(index);
  const size = out.shape[d] ?? 1;
  const { outer, inner } = aroundDim(out.shape, d);
  const s = elementsOf(src);
  const o = storageOf(out);
  const k = idx.length;
  for (let j = 0; j < k; j++) {
    let r = idx[j];
    if (r < 0) r += size;
    if (r < 0 || r >= size) outOfRange('indexAdd', idx[j], d, size);
    for (let p = 0; p < outer; p++) {
      const oBase = (p * size + r) * inner;
      const sBase = (p * k + j) * inner;
      for (let q = 0; q < inner; q++) o[oBase + q] += s[sBase + q];
    }
  }
};

/** Walks every position of `index`, calling f(flat position, offset in contiguous x with dim = index value). */
function walkGather(
  where: string,
  xShape: readonly number[],
  index: Tensor,
  d: number,
  f: (pos: number, xOff: number) => void,
): void {
  const idx = elementsOf(index);
  const shape = index.shape;
  const nd = shape.length;
  const xStrides = new Array<number>(nd);
  for (let i = nd - 1, acc = 1; i >= 0; i--) {
    xStrides[i] = acc;
    acc *= xShape[i];
  }
  const pos = new Array<number>(nd).fill(0);
  for (let p = 0; p < idx.length; p++) {
    let v = idx[p];
    if (v < 0) v += xShape[d];
    if (v < 0 || v >= xShape[d]) outOfRange(where, idx[p], d, xShape[d]);
    let off = 0;
    for (let i = 0; i < nd; i++) off += (i === d ? v : pos[i]) * xStrides[i];
    f(p, off);
    for (let i = nd - 1; i >= 0; i--) {
      if (++pos[i] < shape[i]) break;
      pos[i] = 0;
    }
  }
}

/** out[..i..] = x[..index[..i..]..] along `dim` (out has index's shape). */
export type GatherKernel = (out: Tensor, x: Tensor, dim: number, index: Tensor) => void;
const gather: GatherKernel = (out, x, d, index) => {
  const xd = elementsOf(x);
  const o = storageOf(out);
  walkGather('gather', x.shape, index, d, (p, off) => (o[p] = xd[off]));
};

/** out (a contiguous copy of x) [..index[..i..]..] += src[..i..] along `dim` (src may be larger than index). */
export type ScatterAddKernel = (out: Tensor, dim: number, index: Tensor, src: Tensor) => void;
const scatterAdd: ScatterAddKernel = (out, d, index, src) => {
  const o = storageOf(out);
  const sd = elementsOf(src);
  const sStr = src.shape.map((_, i) => src.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const iStr = index.shape.map((_, i) => index.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  walkGather('scatterAdd', out.shape, index, d, (p, off) => {
    let s = 0;
    for (let i = 0; i < index.ndim; i++) s += (Math.floor(p / iStr[i]) % index.shape[i]) * sStr[i];
    o[off] += sd[s];
  });
};

/** full (zeros, src's shape) gets g (index's shape) written at the matching leading positions. */
export type SpreadKernel = (full: Tensor, g: Tensor) => void;
const spread: SpreadKernel = (full, gs) => {
  const fs = storageOf(full);
  const gd = elementsOf(gs);
  const iStr = gs.shape.map((_, i) => gs.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const sStr = full.shape.map((_, i) => full.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  for (let p = 0; p < gd.length; p++) {
    let s = 0;
    for (let i = 0; i < gs.ndim; i++) s += (Math.floor(p / iStr[i]) % gs.shape[i]) * sStr[i];
    fs[s] = gd[p];
  }
};

/** indices (int32, x's shape with `dim` = k) of the k largest/smallest along `dim`, ties by index. */
export type TopkKernel = (indices: Tensor, x: Tensor, dim: number, k: number, largest: boolean) => void;
const topk: TopkKernel = (indices, x, d, k, largest) => {
  const xs = elementsOf(x);
  const n = x.ndim === 0 ? 1 : x.shape[d];
  const { outer, inner } = aroundDim(x.shape, d);
  const id = storageOf(indices);
  const order = new Array<number>(n);
  for (let p = 0; p < outer; p++) {
    for (let q = 0; q < inner; q++) {
      const base = p * n * inner + q;
      for (let i = 0; i < n; i++) order[i] = i;
      order.sort((a, b) => {
        const va = xs[base + a * inner];
        const vb = xs[base + b * inner];
        const nanA = va !== va;
        const nanB = vb !== vb;
        // NaNs come first (counted as largest, like PyTorch), among themselves by index: a
        // consistent comparator (two NaNs used to both claim first place)
        if (nanA || nanB) return nanA && nanB ? a - b : nanA ? -1 : 1;
        if (va !== vb) return largest ? vb - va : va - vb;
        return a - b;
      });
      for (let j = 0; j < k; j++) id[p * k * inner + j * inner + q] = order[j];
    }
  }
};

/**
 * out [rows, numSamples] int32 = draws from each row of non-negative weights [rows, n]. The
 * generator is the host's (as torch's CPU generator): the uniforms come from it in order.
 */
export type MultinomialKernel = (
  out: Tensor,
  weights: Tensor,
  rows: number,
  n: number,
  numSamples: number,
  g: Generator,
) => void;
const multinomial: MultinomialKernel = (out, weights, rows, n, numSamples, g) => {
  const w = elementsOf(weights);
  const o = storageOf(out);
  const cdf = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    let total = 0;
    for (let i = 0; i < n; i++) {
      const v = w[r * n + i];
      if (!(v >= 0) || v === Infinity)
        throw new RangeError(
          `multinomial: weights must be finite and non-negative, row ${r} has ${v} at ${i}`,
        );
      total += v;
      cdf[i] = total;
    }
    if (!(total > 0)) throw new RangeError(`multinomial: row ${r} of the weights sums to 0`);
    for (let s = 0; s < numSamples; s++) {
      const u = g.random() * total;
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cdf[mid] > u) hi = mid;
        else lo = mid + 1;
      }
      o[r * numSamples + s] = lo;
    }
  }
};

registerKernel('where', 'cpu', where);
registerKernel('indexSelect', 'cpu', indexSelect);
registerKernel('indexAdd', 'cpu', indexAdd);
registerKernel('gather', 'cpu', gather);
registerKernel('scatterAdd', 'cpu', scatterAdd);
registerKernel('scatterSpread', 'cpu', spread);
registerKernel('topk', 'cpu', topk);
registerKernel('multinomial', 'cpu', multinomial);
