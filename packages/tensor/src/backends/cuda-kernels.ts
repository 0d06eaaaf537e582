/**
 * The CUDA backend's core kernels, registered under 'cuda': elementwise binary / unary (operands
 * of another dtype are converted on the device first), strided copy with dtype conversion, fill,
 * and strided batched GEMM (cuBLAS, or the tiled kernel). Each calls one @nl/native entry point
 * that queues its kernel on the buffer's device; the addon checks every extent.
 */
import { native, OP_CODES } from '@nl/native';
import type { DeviceBuffer } from '../backend/types.js';
import type { DType } from '../dtype.js';
import { registerKernel } from '../backend/registry.js';
import type { KernelOperand } from '../device.js';
import type { BinaryKernel, CopyKernel, FillKernel, GemmKernel, UnaryKernel } from './cpu-kernels.js';
import {
  CudaBuffer,
  cudaDType,
  cudaDeviceOf,
  cudaDTypeOf,
  cudaPointer,
  releaseScratch,
  scratch,
} from './cuda.js';

const COMPARISONS = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

function dtypeOf(buf: DeviceBuffer): DType {
  return (buf as unknown as CudaBuffer).dtype;
}

function promote(a: DType, b: DType): DType {
  if (a === 'float64' || b === 'float64') return 'float64';
  if (a === 'float32' || b === 'float32') return 'float32';
  return 'int32';
}

/** `o` as an operand of dtype `dt`: itself, or a converted contiguous copy (+ the scratch to free). */
function asDtype(
  o: KernelOperand,
  shape: readonly number[],
  dt: DType,
): [KernelOperand, DeviceBuffer | null] {
  if (dtypeOf(o.buffer) === dt) return [o, null];
  const n = shape.reduce((p, d) => p * d, 1);
  const buf = scratch(cudaDeviceOf(o.buffer), dt, n);
  native.cudaCopy(cudaPointer(buf), cudaDTypeOf(dt), shape, cudaPointer(o.buffer), cudaDType(o.buffer), o.offset, o.strides); // prettier-ignore
  const strides = new Array<number>(shape.length);
  for (let d = shape.length - 1, s = 1; d >= 0; d--) {
    strides[d] = shape[d] === 1 ? 0 : s;
    s *= shape[d];
  }
  return [{ buffer: buf, offset: 0, strides }, buf];
}

const binary: BinaryKernel = (op, out, shape, a, b, outOffset = 0) => {
  const code = OP_CODES.binary[op];
  if (code === undefined) throw new Error(`binary: unknown op '${op}'`);
  const outDt = dtypeOf(out);
  const inDt = COMPARISONS.has(op) ? promote(dtypeOf(a.buffer), dtypeOf(b.buffer)) : outDt;
  const [A, ta] = asDtype(a, shape, inDt);
  const [B, tb] = asDtype(b, shape, inDt);
  try {
    native.cudaBinary(code, cudaPointer(out), cudaDTypeOf(outDt), outOffset, shape, cudaPointer(A.buffer), A.offset, A.strides, cudaPointer(B.buffer), B.offset, B.strides, cudaDTypeOf(inDt)); // prettier-ignore
  } finally {
    if (ta) releaseScratch(ta);
    if (tb) releaseScratch(tb);
  }
};

const unary: UnaryKernel = (op, out, shape, a, p0 = 0, p1 = 0) => {
  const code = OP_CODES.unary[op];
  if (code === undefined) throw new Error(`unary: unknown op '${op}'`);
  const dt = dtypeOf(out);
  const [A, ta] = asDtype(a, shape, dt);
  try {
    native.cudaUnary(code, cudaPointer(out), cudaDTypeOf(dt), shape, cudaPointer(A.buffer), A.offset, A.strides, p0, p1); // prettier-ignore
  } finally {
    if (ta) releaseScratch(ta);
  }
};

const copy: CopyKernel = (out, shape, a) =>
  native.cudaCopy(cudaPointer(out), cudaDType(out), shape, cudaPointer(a.buffer), cudaDType(a.buffer), a.offset, a.strides); // prettier-ignore

const fill: FillKernel = (out, offset, n, value) =>
  native.cudaFill(cudaPointer(out), cudaDType(out), offset, n, value);

const gemm: GemmKernel = (tA, tB, m, n, k, alpha, a, ao, lda, sa, b, bo, ldb, sb, beta, c, co, ldc, sc, batch) =>
  native.cudaGemm(cudaDType(c), tA, tB, m, n, k, alpha, cudaPointer(a), ao, lda, sa, cudaPointer(b), bo, ldb, sb, beta, cudaPointer(c), co, ldc, sc, batch); // prettier-ignore

registerKernel('binary', 'cuda', binary);
registerKernel('unary', 'cuda', unary);
registerKernel('copy', 'cuda', copy);
registerKernel('fill', 'cuda', fill);
registerKernel('gemm', 'cuda', gemm);

// the other CUDA kernel families register themselves on import
import './cuda/layout.js';
import './cuda/select.js';
import './cuda/nn.js';
