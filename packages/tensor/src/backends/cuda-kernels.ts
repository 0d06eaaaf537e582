/**
 * The CUDA backend's core kernels, registered under 'cuda': elementwise binary / unary (operands
 * of another dtype are converted on the device first), strided copy with dtype conversion, fill,
 * and strided batched GEMM (cuBLAS, or the tiled kernel). Each calls one @nl/native entry point
 * that queues its kernel on the buffer's device; the addon checks every extent.
 */
import { native, OP_CODES } from '@nl/native';
import type { DeviceBuffer } from '../backend/types.js';
import { promote, type DType } from '../dtype.js';
import { contiguousStrides } from '../shape.js';
import { registerKernel } from '../backend/registry.js';
import type { KernelOperand } from '../device.js';
import type { BinaryKernel, CopyKernel, FillKernel, GemmKernel, UnaryKernel } from './cpu-kernels.js';
import { CudaBuffer, cudaDType, cudaDTypeOf, cudaPointer, gatherAs, releaseScratch } from './cuda.js';

const COMPARISONS = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

function dtypeOf(buf: DeviceBuffer): DType {
  return (buf as unknown as CudaBuffer).dtype;
}

/** `o` as an operand of dtype `dt`: itself, or a converted contiguous copy (+ the scratch to free). */
function asDtype(
  o: KernelOperand,
  shape: readonly number[],
  dt: DType,
): [KernelOperand, DeviceBuffer | null] {
  if (dtypeOf(o.buffer) === dt) return [o, null];
  const buf = gatherAs(o.buffer, o.offset, o.strides, shape, dt);
  return [{ buffer: buf, offset: 0, strides: contiguousStrides(shape) }, buf];
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
