/**
 * CPU reduction kernels over any set of dims of a strided view. The reduced dims are moved last;
 * when they form one contiguous block each output is a tight loop over that block, when they lead
 * a contiguous tensor (bias gradients) sum/mean add whole rows, and otherwise the view is first
 * copied to contiguous. Accumulation is in float64.
 *
 * Ops: sum mean max min argmax argmin logsumexp var (attr `correction`) prod.
 */
import type { TypedArray } from '../dtype.js';
import { collapseDims, contiguousStrides, numelOf } from '../shape.js';
import { copyKernel } from './elementwise.js';
import { nativeReduceCols, nativeReduceRows } from './native-ops.js';

export type ReduceOp = 'sum' | 'mean' | 'max' | 'min' | 'argmax' | 'argmin' | 'logsumexp' | 'var' | 'prod';

/** Reduces `n` elements a[s], a[s+1], ... */
function reduceRow(op: ReduceOp, a: TypedArray, s: number, n: number, correction: number): number {
  switch (op) {
    case 'sum':
    case 'mean': {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += a[s + i];
      return op === 'sum' ? acc : acc / n;
    }
    case 'prod': {
      let acc = 1;
      for (let i = 0; i < n; i++) acc *= a[s + i];
      return acc;
    }
    case 'max':
    case 'min':
    case 'argmax':
    case 'argmin': {
      const isMax = op === 'max' || op === 'argmax';
      let best = a[s];
      let bi = 0;
      for (let i = 1; i < n; i++) {
        const v = a[s + i];
        if (best !== best) break; // NaN wins
        if (v !== v || (isMax ? v > best : v < best)) {
          best = v;
          bi = i;
        }
      }
      return op === 'max' || op === 'min' ? best : bi;
    }
    case 'logsumexp': {
      let m = -Infinity;
      for (let i = 0; i < n; i++) if (a[s + i] > m) m = a[s + i];
      if (m === -Infinity) return -Infinity;
      if (m === Infinity) return Infinity;
      let acc = 0;
      for (let i = 0; i < n; i++) acc += Math.exp(a[s + i] - m);
      return m + Math.log(acc);
    }
    case 'var': {
      let mean = 0;
      for (let i = 0; i < n; i++) mean += a[s + i];
      mean /= n;
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const d = a[s + i] - mean;
        acc += d * d;
      }
      return acc / Math.max(0, n - correction);
    }
  }
}

/**
 * Reduces a strided view over `dims` (sorted, unique) into `out` (contiguous, kept-dims order).
 * @param shape - the input shape; strides/offset/data - the input layout
 */
export function reduceKernel(
  op: ReduceOp,
  out: TypedArray,
  data: TypedArray,
  offset: number,
  shape: readonly number[],
  strides: readonly number[],
  dims: readonly number[],
  correction = 1,
): void {
  const kept: number[] = [];
  for (let d = 0; d < shape.length; d++) if (!dims.includes(d)) kept.push(d);
  const order = [...kept, ...dims];
  const pShape = order.map((d) => shape[d]);
  const pStrides = order.map((d) => strides[d]);
  const nOut = numelOf(kept.map((d) => shape[d]));
  const inner = numelOf(dims.map((d) => shape[d]));
  if (nOut === 0) return;
  // Fast path: sum/mean over leading dims of a contiguous tensor (add rows).
  const contiguous = collapseDims(shape, [strides]);
  const isContig = contiguous.shape.length === 1 && contiguous.strides[0][0] === 1;
  // Trailing dims of a contiguous tensor: contiguous rows, reduced natively.
  if (
    isContig &&
    dims.every((d, i) => d === shape.length - dims.length + i) &&
    nativeReduceRows(op, out, data, offset, nOut, inner)
  ) {
    return;
  }
  if ((op === 'sum' || op === 'mean') && isContig && dims.every((d, i) => d === i) && inner > 0) {
    if (nativeReduceCols(op, out, data, offset, inner, nOut)) return;
    const acc = new Float64Array(nOut);
    for (let r = 0; r < inner; r++) {
      const base = offset + r * nOut;
      for (let j = 0; j < nOut; j++) acc[j] += data[base + j];
    }
    const scale = op === 'mean' ? 1 / inner : 1;
    for (let j = 0; j < nOut; j++) out[j] = acc[j] * scale;
    return;
  }
  // The reduced block must be one contiguous run; otherwise copy to a contiguous buffer first.
  const rc = collapseDims(
    dims.map((d) => shape[d]),
    [dims.map((d) => strides[d])],
  );
  let src = data;
  let srcOff = offset;
  let kStrides = kept.map((d) => strides[d]);
  if (!(rc.shape.length === 1 && (rc.strides[0][0] === 1 || inner <= 1))) {
    const buf = new (data.constructor as new (n: number) => TypedArray)(numelOf(pShape));
    copyKernel(buf, pShape, { data, offset, strides: pStrides });
    // the copy is [kept..., reduced...] contiguous: its rows are exactly the outputs
    if (inner > 0 && nativeReduceRows(op, out, buf, 0, nOut, inner)) return;
    src = buf;
    srcOff = 0;
    kStrides = contiguousStrides(pShape).slice(0, kept.length);
  }
  if (inner === 0 && op !== 'sum' && op !== 'mean' && op !== 'prod' && op !== 'logsumexp' && op !== 'var') {
    throw new RangeError(`${op}: cannot reduce over an empty dimension`);
  }
  const kShape = kept.map((d) => shape[d]);
  const nk = kShape.length;
  const idx = new Array<number>(nk).fill(0);
  let base = srcOff;
  for (let o = 0; o < nOut; o++) {
    out[o] = reduceRow(op, src, base, inner, correction);
    for (let d = nk - 1; d >= 0; d--) {
      idx[d]++;
      base += kStrides[d];
      if (idx[d] < kShape[d]) break;
      base -= kStrides[d] * kShape[d];
      idx[d] = 0;
    }
  }
}
