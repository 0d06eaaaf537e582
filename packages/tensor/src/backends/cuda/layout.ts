/**
 * CUDA kernels of the layout family, registered under 'cuda' (see ../cuda-kernels.ts): reduce,
 * softmax, where, assign, fillView, triangle, scan, cumprodBackward, prodBackward. Each mirrors
 * the contract of its CPU kernel (src/kernels/, backends/cpu-kernels.ts) and calls one
 * @nl/native entry point (native/src/binding/cuda_layout*.cc) that checks every extent and queues
 * the kernel on the buffer's device.
 */
import { native } from '@nl/native';
import type { DeviceBuffer } from '../../backend/types.js';
import type { Tensor } from '../../tensor.js';
import { registerKernel } from '../../backend/registry.js';
import { broadcastStrides, collapseDims, contiguousStrides, numelOf } from '../../shape.js';
import type { ReduceKernel } from '../cpu-kernels.js';
import type { AssignKernel, FillViewKernel, ProdBackwardKernel } from '../../kernels/layout-kernels.js';
import type {
  CumprodBackwardKernel,
  ScanKernel,
  SoftmaxKernel,
  TriangleKernel,
} from '../../kernels/scan-kernels.js';
import type { WhereKernel } from '../../kernels/select-kernels.js';
import { aroundDim } from '../../kernels/strided-write.js';
import type { CudaBuffer } from '../cuda.js';
import { cudaDType, cudaDTypeOf, cudaPointer, gatherAs, releaseScratch } from '../cuda.js';

const REDUCE_CODES = { sum: 0, mean: 1, max: 2, min: 3, argmax: 4, argmin: 5, logsumexp: 6, var: 7, prod: 8 };
const NEEDS_ELEMENTS = new Set(['max', 'min', 'argmax', 'argmin']);

const ptr = (t: Tensor): number => cudaPointer(t.storage.buffer);

/**
 * Drops size-1 dims and merges neighbouring dims of the same kind (both reduced or both kept) that
 * the operand walks with one stride, so that any rank fits the addon's 8 dims when it can.
 */
function collapseReduce(shape: readonly number[], strides: readonly number[], dims: readonly number[]) {
  const s: number[] = [];
  const st: number[] = [];
  const red: boolean[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const r = dims.includes(d);
    const last = s.length - 1;
    if (last >= 0 && red[last] === r && st[last] === strides[d] * shape[d]) {
      s[last] *= shape[d];
      st[last] = strides[d];
    } else {
      s.push(shape[d]);
      st.push(strides[d]);
      red.push(r);
    }
  }
  const outDims: number[] = [];
  red.forEach((r, i) => r && outDims.push(i));
  return { shape: s, strides: st, dims: outDims };
}

const reduce: ReduceKernel = (op, out, a, shape, dims, correction) => {
  const code = REDUCE_CODES[op];
  if (code === undefined) throw new Error(`reduce: unknown op '${op}'`);
  const nOut = numelOf(shape.filter((_, d) => !dims.includes(d)));
  if (nOut === 0) return;
  if (numelOf(dims.map((d) => shape[d])) === 0 && NEEDS_ELEMENTS.has(op))
    throw new RangeError(`${op}: cannot reduce over an empty dimension`);
  const c = collapseReduce(shape, a.strides, dims);
  const outDt = (out as unknown as CudaBuffer).dtype;
  native.cudaReduce(code, cudaPointer(out), cudaDTypeOf(outDt), cudaPointer(a.buffer), cudaDType(a.buffer), a.offset, c.strides, c.shape, c.dims, correction); // prettier-ignore
};

const softmax: SoftmaxKernel = (out, src, dim, log) => {
  const { outer, n, inner } = aroundDim(src.shape, dim);
  native.cudaSoftmax(ptr(out), cudaDTypeOf(out.dtype), ptr(src), cudaDTypeOf(src.dtype), src.offset, outer, n, inner, log); // prettier-ignore
};

const where: WhereKernel = (out, cond, A, B) => {
  const shape = out.shape;
  const col = collapseDims(shape, [
    broadcastStrides(cond.shape, cond.strides, shape),
    broadcastStrides(A.shape, A.strides, shape),
    broadcastStrides(B.shape, B.strides, shape),
  ]);
  const [sc, sa, sb] = col.strides;
  const temps: DeviceBuffer[] = [];
  const operand = (t: Tensor, s: number[]): [DeviceBuffer, number, number[]] => {
    if (t.dtype === out.dtype) return [t.storage.buffer, t.offset, s];
    const buf = gatherAs(t.storage.buffer, t.offset, s, col.shape, out.dtype);
    temps.push(buf);
    return [buf, 0, contiguousStrides(col.shape)];
  };
  try {
    const [ab, ao, as] = operand(A, sa);
    const [bb, bo, bs] = operand(B, sb);
    native.cudaWhere(ptr(out), cudaDTypeOf(out.dtype), col.shape, ptr(cond), cudaDTypeOf(cond.dtype), cond.offset, sc, cudaPointer(ab), ao, as, cudaPointer(bb), bo, bs); // prettier-ignore
  } finally {
    for (const t of temps) releaseScratch(t);
  }
};

const assign: AssignKernel = (dst, dOffset, dStrides, src, srcStrides, shape, snapshot) => {
  if (numelOf(shape) === 0) return;
  const col = collapseDims(shape, [dStrides, srcStrides]);
  const [ds, ss] = col.strides;
  if (!snapshot) {
    native.cudaAssign(ptr(dst), cudaDTypeOf(dst.dtype), dOffset, ds, col.shape, ptr(src), cudaDTypeOf(src.dtype), src.offset, ss); // prettier-ignore
    return;
  }
  // src overlaps dst: read it from a copy taken first (stream order keeps the copy before the write)
  const copy = gatherAs(src.storage.buffer, src.offset, ss, col.shape, src.dtype);
  try {
    native.cudaAssign(ptr(dst), cudaDTypeOf(dst.dtype), dOffset, ds, col.shape, cudaPointer(copy), cudaDTypeOf(src.dtype), 0, contiguousStrides(col.shape)); // prettier-ignore
  } finally {
    releaseScratch(copy);
  }
};

const fillView: FillViewKernel = (t, value) => {
  if (t.numel === 0) return;
  const col = collapseDims(t.shape, [t.strides]);
  native.cudaFillView(ptr(t), cudaDTypeOf(t.dtype), t.offset, col.strides[0], col.shape, value);
};

const triangle: TriangleKernel = (out, lower, k) => {
  const r = out.shape[out.ndim - 2];
  const c = out.shape[out.ndim - 1];
  const batch = r * c === 0 ? 0 : out.numel / (r * c);
  native.cudaTriangle(ptr(out), cudaDTypeOf(out.dtype), out.offset, batch, r, c, lower, k);
};

const SCAN_KINDS = { sum: 0, prod: 1, revsum: 2 } as const;
const scan: ScanKernel = (out, dim, kind) => {
  const { outer, n, inner } = aroundDim(out.shape, dim);
  native.cudaScan(ptr(out), cudaDTypeOf(out.dtype), out.offset, outer, n, inner, SCAN_KINDS[kind]);
};

const cumprodBackward: CumprodBackwardKernel = (out, x, g, dim) => {
  const { outer, n, inner } = aroundDim(x.shape, dim);
  native.cudaCumprodBackward(cudaDTypeOf(out.dtype), ptr(out), out.offset, ptr(x), x.offset, ptr(g), g.offset, outer, n, inner); // prettier-ignore
};

const prodBackward: ProdBackwardKernel = (out, x, ge, dims) => {
  const geStrides = broadcastStrides(ge.shape, ge.strides, x.shape);
  native.cudaProdBackward(cudaDTypeOf(x.dtype), ptr(out), ptr(x), x.offset, x.strides, ptr(ge), ge.offset, geStrides, x.shape, dims); // prettier-ignore
};

registerKernel('reduce', 'cuda', reduce);
registerKernel('softmax', 'cuda', softmax);
registerKernel('where', 'cuda', where);
registerKernel('assign', 'cuda', assign);
registerKernel('fillView', 'cuda', fillView);
registerKernel('triangle', 'cuda', triangle);
registerKernel('scan', 'cuda', scan);
registerKernel('cumprodBackward', 'cuda', cumprodBackward);
registerKernel('prodBackward', 'cuda', prodBackward);

export {};
