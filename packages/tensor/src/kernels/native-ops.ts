/**
 * Bridge to the addon's tensor kernels (native/src/cpu/tensor_ops.cc): elementwise binary/unary
 * ops over collapsed strided views and contiguous row reductions, threaded and vectorised.
 * The JS kernels call these for float32/float64 operands of one dtype once a tensor is big enough
 * that the call overhead (~0.2 µs) is repaid; small tensors, int32 and mixed dtypes stay in JS.
 */
import { hasNative, native, OP_CODES } from '@nl/native';
import type { TypedArray } from '../dtype.js';

interface TensorNative {
  tensorBinary(
    op: number,
    out: TypedArray,
    a: TypedArray,
    ao: number,
    b: TypedArray,
    bo: number,
    shape: number[],
    sa: number[],
    sb: number[],
  ): void;
  tensorUnary(
    op: number,
    out: TypedArray,
    a: TypedArray,
    ao: number,
    shape: number[],
    sa: number[],
    p0: number,
    p1: number,
  ): void;
  tensorReduceRows(op: number, out: TypedArray, a: TypedArray, ao: number, rows: number, n: number): void;
  tensorReduceCols(op: number, out: TypedArray, a: TypedArray, ao: number, rows: number, n: number): void;
  tensorSoftmaxRows(log: boolean, out: TypedArray, a: TypedArray, ao: number, rows: number, n: number): void;
}

const addon = native as unknown as Partial<TensorNative>;
/** False without the addon or when it predates the tensor kernels (then everything runs in JS). */
export const hasNativeTensorOps = hasNative() && typeof addon.tensorBinary === 'function';
const nat = addon as TensorNative;

/** Elements below which the JS loop is faster than a native call. */
export const NATIVE_MIN_ELEMENTS = 512;

// Op codes come from the one table native/src/tables/op_codes.json (the addon's C++ enums are
// generated from it; native/test/op-codes.test.ts checks the loaded binary agrees).
export const BINARY_CODES: Readonly<Record<string, number>> = OP_CODES.binary;
export const UNARY_CODES: Readonly<Record<string, number>> = OP_CODES.unary;
export const ROW_REDUCE_CODES: Readonly<Record<string, number>> = OP_CODES.rowReduce;

function floatSame(...arrs: TypedArray[]): boolean {
  const c = arrs[0].constructor;
  if (c !== Float32Array && c !== Float64Array) return false;
  for (const a of arrs) if (a.constructor !== c) return false;
  return true;
}

/** Runs a binary op natively when possible; returns false to fall back to JS. */
export function nativeBinary(
  op: string,
  out: TypedArray,
  n: number,
  a: TypedArray,
  ao: number,
  b: TypedArray,
  bo: number,
  shape: number[],
  sa: number[],
  sb: number[],
): boolean {
  const code = BINARY_CODES[op];
  if (
    !hasNativeTensorOps ||
    code === undefined ||
    code >= OP_CODES.cpuSimd.binary ||
    n < NATIVE_MIN_ELEMENTS ||
    shape.length > 8 ||
    !floatSame(out, a, b)
  )
    return false;
  nat.tensorBinary(code, out, a, ao, b, bo, shape, sa, sb);
  return true;
}

/** Runs a unary op natively when possible; returns false to fall back to JS. */
export function nativeUnary(
  op: string,
  out: TypedArray,
  n: number,
  a: TypedArray,
  ao: number,
  shape: number[],
  sa: number[],
  p0: number,
  p1: number,
): boolean {
  const code = UNARY_CODES[op];
  if (
    !hasNativeTensorOps ||
    code === undefined ||
    code >= OP_CODES.cpuSimd.unary ||
    n < NATIVE_MIN_ELEMENTS ||
    shape.length > 8 ||
    !floatSame(out, a)
  )
    return false;
  nat.tensorUnary(code, out, a, ao, shape, sa, p0, p1);
  return true;
}

/** Reduces contiguous rows natively when possible; returns false to fall back to JS. */
export function nativeReduceRows(
  op: string,
  out: TypedArray,
  a: TypedArray,
  ao: number,
  rows: number,
  n: number,
): boolean {
  const code = ROW_REDUCE_CODES[op];
  if (
    !hasNativeTensorOps ||
    code === undefined ||
    rows * n < NATIVE_MIN_ELEMENTS ||
    n === 0 ||
    !floatSame(out, a)
  )
    return false;
  nat.tensorReduceRows(code, out, a, ao, rows, n);
  return true;
}

/** Sums (or means) the leading dim of a contiguous [rows, n] natively when possible. */
export function nativeReduceCols(
  op: string,
  out: TypedArray,
  a: TypedArray,
  ao: number,
  rows: number,
  n: number,
): boolean {
  if (
    !hasNativeTensorOps ||
    (op !== 'sum' && op !== 'mean') ||
    rows * n < NATIVE_MIN_ELEMENTS ||
    !floatSame(out, a)
  )
    return false;
  nat.tensorReduceCols(op === 'sum' ? 0 : 1, out, a, ao, rows, n);
  return true;
}

/** (Log-)softmax of the rows of a contiguous [rows, n] natively when possible. */
export function nativeSoftmaxRows(
  log: boolean,
  out: TypedArray,
  a: TypedArray,
  ao: number,
  rows: number,
  n: number,
): boolean {
  if (!hasNativeTensorOps || rows * n < NATIVE_MIN_ELEMENTS || !floatSame(out, a)) return false;
  nat.tensorSoftmaxRows(log, out, a, ao, rows, n);
  return true;
}
