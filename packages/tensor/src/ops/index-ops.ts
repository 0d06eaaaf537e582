/**
 * Integer-indexed ops (index tensors are int32, every index range-checked with a clear error):
 *   indexSelect(x, dim, index[k])          -> x with dim resized to k
 *   gather(x, dim, index)                  -> shape of index; out[..i..] = x[..index[..i..]..]
 *   scatterAdd(x, dim, index, src)         -> x + src accumulated at index positions
 *   indexAdd(x, dim, index[k], src)        -> x + src rows added at index along dim
 */
import { Tensor } from '../tensor.js';
import { fmtShape, normDim } from '../shape.js';
import { record } from '../autograd/tape.js';
import { defineGrad } from '../autograd/grad-table.js';
import { aroundDim } from '../kernels/strided-write.js';
import { checkOperands, empty_ } from './helpers.js';
import { contiguousRaw } from './shape-ops.js';
import { dataSync } from '../tensor-data.js';

function checkIndex(where: string, index: Tensor): void {
  if (index.dtype !== 'int32') throw new TypeError(`${where}: index must be int32, got ${index.dtype}`);
}
function contig(t: Tensor): { data: ArrayLike<number>; off: number } {
  if (t.isContiguous) return { data: t.storage.data, off: t.offset };
  return { data: dataSync(t), off: 0 };
}
function outOfRange(where: string, v: number, dim: number, size: number): never {
  throw new RangeError(`${where}: index ${v} is out of range for dim ${dim} of size ${size}`);
}

/** Rows of `x` along `dim` picked by a 1-D int32 index (negative indices count from the end). */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  checkOperands('indexSelect', x, index);
  checkIndex('indexSelect', index);
  if (index.ndim > 1)
    throw new RangeError(`indexSelect: index must be 1-D, got shape ${fmtShape(index.shape)}`);
  const d = normDim(dim, x.ndim, 'indexSelect');
  const idx = dataSync(index);
  const size = x.shape[d] ?? 1;
  const shape = x.shape.slice();
  if (x.ndim > 0) shape[d] = idx.length;
  const out = empty_(shape, x.dtype, x.device);
  const { outer, inner } = aroundDim(x.shape, d);
  const src = contig(x);
  const o = out.storage.data;
  const k = idx.length;
  for (let j = 0; j < k; j++) {
    let r = idx[j];
    if (r < 0) r += size;
    if (r < 0 || r >= size) outOfRange('indexSelect', idx[j], dim, size);
    for (let p = 0; p < outer; p++) {
      const sBase = src.off + (p * size + r) * inner;
      const oBase = (p * k + j) * inner;
      for (let q = 0; q < inner; q++) o[oBase + q] = src.data[sBase + q];
    }
  }
  record('indexSelect', [x], [out], { dim: d }, [index]);
  return out;
}

/** x + src, where the rows of src are added at positions `index` along `dim` (duplicates accumulate). */
export function indexAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  checkOperands('indexAdd', x, index, src);
  checkIndex('indexAdd', index);
  const d = normDim(dim, x.ndim, 'indexAdd');
  const idx = dataSync(index);
  const want = x.shape.slice();
  if (x.ndim > 0) want[d] = idx.length;
  if (want.length !== src.ndim || want.some((s, i) => s !== src.shape[i])) {
    throw new RangeError(
      `indexAdd: src shape ${fmtShape(src.shape)} does not match ${fmtShape(want)} (x ${fmtShape(x.shape)}, ${idx.length} indices)`,
    );
  }
  const out = contiguousRaw(x);
  const size = x.shape[d] ?? 1;
  const { outer, inner } = aroundDim(x.shape, d);
  const s = contig(src);
  const o = out.storage.data;
  const k = idx.length;
  for (let j = 0; j < k; j++) {
    let r = idx[j];
    if (r < 0) r += size;
    if (r < 0 || r >= size) outOfRange('indexAdd', idx[j], dim, size);
    for (let p = 0; p < outer; p++) {
      const oBase = (p * size + r) * inner;
      const sBase = s.off + (p * k + j) * inner;
      for (let q = 0; q < inner; q++) o[oBase + q] += s.data[sBase + q];
    }
  }
  record('indexAdd', [x, src], [out], { dim: d }, [index]);
  return out;
}

function checkGatherShapes(where: string, x: Tensor, index: Tensor, d: number): void {
  if (index.ndim !== x.ndim)
    throw new RangeError(
      `${where}: index ${fmtShape(index.shape)} must have as many dims as x ${fmtShape(x.shape)}`,
    );
  for (let i = 0; i < x.ndim; i++) {
    if (i !== d && index.shape[i] > x.shape[i]) {
      throw new RangeError(
        `${where}: index ${fmtShape(index.shape)} is larger than x ${fmtShape(x.shape)} in dim ${i}`,
      );
    }
  }
}

/** Walks every position of `index` (shape S), calling f(flat position in S, offset in x with dim set to index value). */
function walkGather(
  where: string,
  x: Tensor,
  index: Tensor,
  d: number,
  f: (pos: number, xOff: number) => void,
): void {
  const idx = dataSync(index);
  const shape = index.shape;
  const nd = shape.length;
  const xs = x.shape;
  const xStrides = new Array<number>(nd); // contiguous strides of x
  for (let i = nd - 1, acc = 1; i >= 0; i--) {
    xStrides[i] = acc;
    acc *= xs[i];
  }
  const pos = new Array<number>(nd).fill(0);
  for (let p = 0; p < idx.length; p++) {
    let v = idx[p];
    if (v < 0) v += xs[d];
    if (v < 0 || v >= xs[d]) outOfRange(where, idx[p], d, xs[d]);
    let off = 0;
    for (let i = 0; i < nd; i++) off += (i === d ? v : pos[i]) * xStrides[i];
    f(p, off);
    for (let i = nd - 1; i >= 0; i--) {
      if (++pos[i] < shape[i]) break;
      pos[i] = 0;
    }
  }
}

/** out[i][j][k] = x[i][index[i][j][k]][k] (for dim 1); shape of index. */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  checkOperands('gather', x, index);
  checkIndex('gather', index);
  const d = normDim(dim, x.ndim, 'gather');
  checkGatherShapes('gather', x, index, d);
  const out = empty_(index.shape, x.dtype, x.device);
  const { data: xd, off: base } = contig(x); // no copy for contiguous x
  const o = out.storage.data;
  walkGather('gather', x, index, d, (p, off) => (o[p] = xd[base + off]));
  record('gather', [x], [out], { dim: d }, [index]);
  return out;
}

/** x + src accumulated at index positions: out[i][index[i][j][k]][k] += src[i][j][k] (dim 1). */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  checkOperands('scatterAdd', x, index, src);
  checkIndex('scatterAdd', index);
  const d = normDim(dim, x.ndim, 'scatterAdd');
  checkGatherShapes('scatterAdd', x, index, d);
  if (src.ndim !== index.ndim || index.shape.some((s, i) => s > src.shape[i])) {
    throw new RangeError(
      `scatterAdd: src ${fmtShape(src.shape)} must be at least as large as index ${fmtShape(index.shape)}`,
    );
  }
  const out = contiguousRaw(x);
  const o = out.storage.data;
  // src read at index positions (src may be larger than index)
  const sd = dataSync(src);
  const sStr = src.shape.map((_, i) => src.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const iStr = index.shape.map((_, i) => index.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  walkGather('scatterAdd', x, index, d, (p, off) => {
    let s = 0;
    for (let i = 0; i < index.ndim; i++) s += (Math.floor(p / iStr[i]) % index.shape[i]) * sStr[i];
    o[off] += sd[s];
  });
  record('scatterAdd', [x, src], [out], { dim: d }, [index]);
  return out;
}

defineGrad('indexSelect', (c, [g]) => {
  const x = c.inputs[0];
  const zeros = empty_(x.shape, g!.dtype, g!.device);
  return [indexAdd(zeros, c.attrs.dim, c.saved[0], g!)];
});
defineGrad('indexAdd', (c, [g]) => [
  g,
  c.needsInputGrad[1] ? indexSelect(g!, c.attrs.dim, c.saved[0]) : null,
]);
defineGrad('gather', (c, [g]) => {
  const x = c.inputs[0];
  const zeros = empty_(x.shape, g!.dtype, g!.device);
  return [scatterAdd(zeros, c.attrs.dim, c.saved[0], g!)];
});
defineGrad('scatterAdd', (c, [g]) => {
  const src = c.inputs[1];
  if (!c.needsInputGrad[1]) return [g, null];
  const gs = gather(g!, c.attrs.dim, c.saved[0]);
  // src may be larger than index: positions outside index get no gradient
  if (src.shape.every((s, i) => s === gs.shape[i])) return [g, gs];
  const full = empty_(src.shape, gs.dtype, gs.device);
  const fs = full.storage.data;
  const gd = gs.storage.data;
  const iStr = gs.shape.map((_, i) => gs.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const sStr = src.shape.map((_, i) => src.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  for (let p = 0; p < gd.length; p++) {
    let s = 0;
    for (let i = 0; i < gs.ndim; i++) s += (Math.floor(p / iStr[i]) % gs.shape[i]) * sStr[i];
    fs[s] = gd[p];
  }
  return [g, full];
});
