/**
 * The CPU backend's core kernels, registered under 'cpu': elementwise binary/unary (JS kernels
 * generated per op, the addon's SIMD kernels for float tensors of >= 512 elements), strided copy,
 * fill, reductions and strided batched GEMM (`native.gemm`). Other op families register their CPU
 * kernels next to their implementation in src/kernels/.
 */
import { native } from '@nl/native';
import type { DeviceBuffer } from '../backend/types.js';
import { registerKernel } from '../backend/registry.js';
import { hostArray } from '../backend/host.js';
import type { KernelOperand } from '../device.js';
import { binaryKernel, copyKernel, unaryKernel } from '../kernels/elementwise.js';
import { BINARY_EXPR, UNARY_EXPR } from '../kernels/exprs.js';
import { reduceKernel, type ReduceOp } from '../kernels/reduce.js';
import { openOperand } from '../kernels/host.js';

type Float = Float32Array | Float64Array;

/** out[outOffset...] = op(a, b) elementwise over `shape` (out contiguous from outOffset). */
export type BinaryKernel = (
  op: string,
  out: DeviceBuffer,
  shape: readonly number[],
  a: KernelOperand,
  b: KernelOperand,
  outOffset?: number,
) => void;
/** out = op(a; p0, p1) elementwise over `shape`. */
export type UnaryKernel = (
  op: string,
  out: DeviceBuffer,
  shape: readonly number[],
  a: KernelOperand,
  p0: number,
  p1: number,
) => void;
/** out (contiguous, dtype of out) = a (strided, any dtype). */
export type CopyKernel = (out: DeviceBuffer, shape: readonly number[], a: KernelOperand) => void;
/** out[offset + i] = value for i < n. */
export type FillKernel = (out: DeviceBuffer, offset: number, n: number, value: number) => void;
/** Reduces `dims` (sorted) of the strided operand `a` of `shape` into contiguous `out`. */
export type ReduceKernel = (
  op: ReduceOp,
  out: DeviceBuffer,
  a: KernelOperand,
  shape: readonly number[],
  dims: readonly number[],
  correction: number,
) => void;
/** Strided batched GEMM, the positional contract of `native.gemm` (offsets/strides in elements). */
export type GemmKernel = (
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: DeviceBuffer,
  aOffset: number,
  lda: number,
  strideA: number,
  b: DeviceBuffer,
  bOffset: number,
  ldb: number,
  strideB: number,
  beta: number,
  c: DeviceBuffer,
  cOffset: number,
  ldc: number,
  strideC: number,
  batch: number,
) => void;

const binary: BinaryKernel = (op, out, shape, a, b, outOffset = 0) => {
  const expr = BINARY_EXPR[op];
  if (expr === undefined) throw new Error(`binary: unknown op '${op}'`);
  const o = hostArray(out);
  binaryKernel(op, expr, outOffset === 0 ? o : o.subarray(outOffset), shape, openOperand(a), openOperand(b));
};
const unary: UnaryKernel = (op, out, shape, a, p0 = 0, p1 = 0) => {
  const expr = UNARY_EXPR[op];
  if (expr === undefined) throw new Error(`unary: unknown op '${op}'`);
  unaryKernel(op, expr, hostArray(out), shape, openOperand(a), p0, p1);
};
const copy: CopyKernel = (out, shape, a) => copyKernel(hostArray(out), shape, openOperand(a));
const fill: FillKernel = (out, offset, n, value) => {
  hostArray(out).fill(value, offset, offset + n);
};
const reduce: ReduceKernel = (op, out, a, shape, dims, correction) => {
  const v = openOperand(a);
  reduceKernel(op, hostArray(out), v.data, v.offset, shape, v.strides, dims, correction);
};
const gemm: GemmKernel = (
  tA,
  tB,
  m,
  n,
  k,
  alpha,
  a,
  ao,
  lda,
  sa,
  b,
  bo,
  ldb,
  sb,
  beta,
  c,
  co,
  ldc,
  sc,
  batch,
) => {
  const A = hostArray(a) as Float;
  const B = hostArray(b) as Float;
  const C = hostArray(c) as Float;
  native.gemm(tA, tB, m, n, k, alpha, A, ao, lda, sa, B, bo, ldb, sb, beta, C, co, ldc, sc, batch);
};

registerKernel('binary', 'cpu', binary);
registerKernel('unary', 'cpu', unary);
registerKernel('copy', 'cpu', copy);
registerKernel('fill', 'cpu', fill);
registerKernel('reduce', 'cpu', reduce);
registerKernel('gemm', 'cpu', gemm);

// the other CPU kernel families register themselves on import
import '../kernels/layout-kernels.js';
import '../kernels/scan-kernels.js';
import '../kernels/select-kernels.js';
