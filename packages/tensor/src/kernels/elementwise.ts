/**
 * CPU elementwise kernels, generated once per (op, dtypes) with `new Function` so each loop is
 * monomorphic and the op expression is inlined. Inputs are strided views (broadcast dims have
 * stride 0); the output is a fresh contiguous array. Dims that all operands walk with one stride
 * are merged first, so contiguous inputs run one tight loop with no index maths.
 *
 * Expressions use `x` (and `y`) for the operand values and `p0`, `p1` for scalar parameters.
 */
import type { TypedArray } from '../dtype.js';
import { collapseDims, numelOf } from '../shape.js';
import { H } from './math.js';
import { nativeBinary, nativeUnary } from './native-ops.js';

/** A strided read-only operand. */
export interface StridedView {
  readonly data: TypedArray;
  readonly offset: number;
  /** Strides already broadcast to the output shape. */
  readonly strides: readonly number[];
}

type Kernel2 = (
  out: TypedArray,
  a: TypedArray,
  ao: number,
  b: TypedArray,
  bo: number,
  shape: number[],
  sa: number[],
  sb: number[],
) => void;
type Kernel1 = (
  out: TypedArray,
  a: TypedArray,
  ao: number,
  shape: number[],
  sa: number[],
  p0: number,
  p1: number,
) => void;

/** Kernels per op, indexed by the dtype codes of (out, a[, b]). */
const cache2 = new Map<string, (Kernel2 | undefined)[]>();
const cache1 = new Map<string, (Kernel1 | undefined)[]>();

const ODOMETER = `
  const idx = new Array(nd).fill(0);
  const outer = n / inner;
  for (let r = 0, o = 0; r < outer; r++, o += inner) {
    BODY
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++; pa += sa[d]; PB_STEP
      if (idx[d] < shape[d]) break;
      pa -= sa[d] * shape[d]; PB_RESET idx[d] = 0;
    }
  }`;

function build2(expr: string): Kernel2 {
  const src = `
return function(out, a, ao, b, bo, shape, sa, sb) {
  const nd = shape.length; const inner = shape[nd - 1]; const ia = sa[nd - 1], ib = sb[nd - 1];
  let n = 1; for (let i = 0; i < nd; i++) n *= shape[i];
  if (n === 0) return;
  if (nd === 1) {
    if (ia === 1 && ib === 1) { for (let i = 0; i < inner; i++) { const x = a[ao + i], y = b[bo + i]; out[i] = ${expr}; } return; }
    if (ia === 1 && ib === 0) { const y = b[bo]; for (let i = 0; i < inner; i++) { const x = a[ao + i]; out[i] = ${expr}; } return; }
    if (ia === 0 && ib === 1) { const x = a[ao]; for (let i = 0; i < inner; i++) { const y = b[bo + i]; out[i] = ${expr}; } return; }
  }
  let pa = ao, pb = bo;
  ${ODOMETER.replace(
    'BODY',
    `for (let i = 0; i < inner; i++) { const x = a[pa + i * ia], y = b[pb + i * ib]; out[o + i] = ${expr}; }`,
  )
    .replace('PB_STEP', 'pb += sb[d];')
    .replace('PB_RESET', 'pb -= sb[d] * shape[d];')}
};`;
  return new Function('H', src)(H) as Kernel2;
}

function build1(expr: string): Kernel1 {
  const src = `
return function(out, a, ao, shape, sa, p0, p1) {
  const nd = shape.length; const inner = shape[nd - 1]; const ia = sa[nd - 1];
  let n = 1; for (let i = 0; i < nd; i++) n *= shape[i];
  if (n === 0) return;
  if (nd === 1 && ia === 1) { for (let i = 0; i < inner; i++) { const x = a[ao + i]; out[i] = ${expr}; } return; }
  let pa = ao;
  ${ODOMETER.replace(
    'BODY',
    `for (let i = 0; i < inner; i++) { const x = a[pa + i * ia]; out[o + i] = ${expr}; }`,
  )
    .replace('PB_STEP', '')
    .replace('PB_RESET', '')}
};`;
  return new Function('H', src)(H) as Kernel1;
}

function code(a: TypedArray): number {
  return a instanceof Float32Array ? 0 : a instanceof Float64Array ? 1 : 2;
}

/**
 * out[i] = expr(a[i], b[i]) over `shape` (row-major), reading broadcast strided operands.
 * @param key - cache key of the expression (the op name)
 */
export function binaryKernel(
  key: string,
  expr: string,
  out: TypedArray,
  shape: readonly number[],
  a: StridedView,
  b: StridedView,
): void {
  if (numelOf(shape) === 0) return;
  let fns = cache2.get(key);
  if (fns === undefined) {
    fns = [];
    cache2.set(key, fns);
  }
  const k = code(out) * 9 + code(a.data) * 3 + code(b.data);
  let fn = fns[k];
  if (fn === undefined) {
    fn = build2(expr);
    fns[k] = fn;
  }
  const c = collapseDims(shape, [a.strides, b.strides]);
  if (
    nativeBinary(
      key,
      out,
      numelOf(shape),
      a.data,
      a.offset,
      b.data,
      b.offset,
      c.shape,
      c.strides[0],
      c.strides[1],
    )
  )
    return;
  fn(out, a.data, a.offset, b.data, b.offset, c.shape, c.strides[0], c.strides[1]);
}

/** out[i] = expr(a[i]; p0, p1) over `shape`, reading a strided operand. */
export function unaryKernel(
  key: string,
  expr: string,
  out: TypedArray,
  shape: readonly number[],
  a: StridedView,
  p0 = 0,
  p1 = 0,
): void {
  if (numelOf(shape) === 0) return;
  let fns = cache1.get(key);
  if (fns === undefined) {
    fns = [];
    cache1.set(key, fns);
  }
  const k = code(out) * 3 + code(a.data);
  let fn = fns[k];
  if (fn === undefined) {
    fn = build1(expr);
    fns[k] = fn;
  }
  const c = collapseDims(shape, [a.strides]);
  if (nativeUnary(key, out, numelOf(shape), a.data, a.offset, c.shape, c.strides[0], p0, p1)) return;
  fn(out, a.data, a.offset, c.shape, c.strides[0], p0, p1);
}

/** Copies a strided view into a contiguous array (`out` has numel(shape) elements). */
export function copyKernel(out: TypedArray, shape: readonly number[], a: StridedView): void {
  const c = collapseDims(shape, [a.strides]);
  if (c.shape.length === 1 && c.strides[0][0] === 1) {
    const n = c.shape[0];
    if (n > 0) out.set(a.data.subarray(a.offset, a.offset + n));
    return;
  }
  unaryKernel('copy', 'x', out, shape, a);
}
