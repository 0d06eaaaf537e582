/**
 * Creation functions: tensor (from numbers, nested arrays or typed arrays), fromTypedArray
 * (zero-copy), zeros ones full empty (+ *Like), arange, linspace, eye, rand randn randint.
 * Options: { dtype (default float32, or the typed array's dtype), device ('cpu'), requiresGrad }.
 */
import type { DType, TypedArray } from '../dtype.js';
import { assertDType, dtypeOfArray, isFloat } from '../dtype.js';
import { POOL_MIN_ELEMENTS, giveBuffer, takeBuffer } from '../pool.js';
import type { Device } from '../device.js';
import { backendFor, runKernel } from '../device.js';
import type { FillKernel } from '../backends/cpu-kernels.js';
import { empty_ } from './helpers.js';
import { Storage, pinBuffer } from '../storage.js';
import { Tensor, type NestedArray } from '../tensor.js';
import { checkShape, contiguousStrides, fmtShape, numelOf } from '../shape.js';
import { defaultGenerator, type Generator } from '../random.js';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** Throws unless `v` (element `i` of the input) is an integer int32 can hold. */
function checkInt32(v: number, i: number, where: string): void {
  if (!Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX) {
    throw new RangeError(
      `${where}: value ${v} at index ${i} is not an int32 (integers in [-2147483648, 2147483647]); ` +
        'round/clamp it first or use a float dtype',
    );
  }
}

/** Options shared by creation functions. */
export interface CreateOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}
/** Options of the random creation functions. */
export interface RandomOptions extends CreateOptions {
  generator?: Generator;
}

/** Wraps `data`; `pooled` marks arrays this module allocated (recyclable after dispose). */
function finish(
  data: TypedArray,
  shape: readonly number[],
  dtype: DType,
  opts: CreateOptions,
  where: string,
  pooled = true,
): Tensor {
  const device = opts.device ?? 'cpu';
  const backend = backendFor(device, where);
  // the CPU adopts the host array; a device copies it (one upload)
  const onCpu = device === 'cpu';
  const buf = backend.fromHost(data, dtype, onCpu);
  const t = new Tensor(
    new Storage(buf, data.length, dtype, device, onCpu && pooled && data.length >= POOL_MIN_ELEMENTS),
    shape.slice(),
    contiguousStrides(shape),
    0,
  );
  if (!onCpu && pooled) giveBuffer(data, dtype); // the staging array goes back to the pool
  if (opts.requiresGrad) {
    if (!isFloat(dtype)) {
      t.dispose();
      throw new TypeError(`${where}: only float tensors can require gradients, got ${dtype}`);
    }
    t.requiresGrad = true;
  }
  return t;
}

function dtypeOf(opts: CreateOptions, where: string, fallback: DType = 'float32'): DType {
  const d = opts.dtype ?? fallback;
  assertDType(d, where);
  return d;
}

/** Nested input: numbers, arrays of them, or typed arrays as the innermost rows. */
export type NestedInput = number | TypedArray | readonly NestedInput[];

type Seq = ArrayLike<NestedInput>;
const isSeq = (x: unknown): x is Seq =>
  Array.isArray(x) || (ArrayBuffer.isView(x) && !(x instanceof DataView));

function inferNested(data: NestedInput, where: string): { shape: number[]; flat: number[] } {
  const shape: number[] = [];
  let cur: NestedInput | undefined = data;
  while (isSeq(cur)) {
    shape.push(cur.length);
    cur = cur[0];
    if (cur === undefined) break;
  }
  const flat: number[] = [];
  const walk = (x: NestedInput, depth: number, path: string) => {
    if (depth === shape.length) {
      if (typeof x !== 'number')
        throw new TypeError(`${where}: element at ${path || 'root'} is ${typeof x}, expected a number`);
      flat.push(x);
      return;
    }
    if (!isSeq(x) || x.length !== shape[depth]) {
      throw new RangeError(
        `${where}: ragged nested array at ${path || 'root'} (expected length ${shape[depth]} for shape ${fmtShape(shape)})`,
      );
    }
    for (let i = 0; i < x.length; i++) walk(x[i], depth + 1, `${path}[${i}]`);
  };
  walk(data, 0, '');
  return { shape, flat };
}

/**
 * A tensor from a number, nested arrays, or a typed array (copied; see `fromTypedArray` for
 * zero-copy). `shape` reshapes flat data; dtype defaults to the typed array's, else float32.
 */
export function tensor(
  data: NestedArray | NestedInput,
  opts: CreateOptions & { shape?: readonly number[] } = {},
): Tensor {
  if (ArrayBuffer.isView(data)) {
    const src = data as TypedArray;
    const dtype = dtypeOf(opts, 'tensor', dtypeOfArray(src, 'tensor'));
    const shape = opts.shape ? checkShape(opts.shape, 'tensor') : [src.length];
    if (numelOf(shape) !== src.length)
      throw new RangeError(`tensor: ${src.length} values do not fill shape ${fmtShape(shape)}`);
    if (dtype === 'int32' && !(src instanceof Int32Array))
      for (let i = 0; i < src.length; i++) checkInt32(src[i], i, 'tensor');
    const arr = takeBuffer(dtype, src.length, false);
    arr.set(src);
    return finish(arr, shape, dtype, opts, 'tensor');
  }
  const { shape: inferred, flat } = inferNested(data as NestedInput, 'tensor');
  const dtype = dtypeOf(opts, 'tensor');
  const shape = opts.shape ? checkShape(opts.shape, 'tensor') : inferred;
  if (numelOf(shape) !== flat.length)
    throw new RangeError(`tensor: ${flat.length} values do not fill shape ${fmtShape(shape)}`);
  if (dtype === 'int32') for (let i = 0; i < flat.length; i++) checkInt32(flat[i], i, 'tensor');
  const arr = takeBuffer(dtype, flat.length, false);
  for (let i = 0; i < flat.length; i++) arr[i] = flat[i];
  return finish(arr, shape, dtype, opts, 'tensor');
}

/** Wraps a typed array without copying (writes to either side are shared). Default shape [length]. */
export function fromTypedArray(
  arr: TypedArray,
  shape?: readonly number[],
  opts: Omit<CreateOptions, 'dtype'> = {},
): Tensor {
  const dtype = dtypeOfArray(arr, 'fromTypedArray');
  const s = shape ? checkShape(shape, 'fromTypedArray') : [arr.length];
  if (numelOf(s) !== arr.length)
    throw new RangeError(`fromTypedArray: ${arr.length} elements do not fill shape ${fmtShape(s)}`);
  pinBuffer(arr); // a view of a pooled tensor's memory must not be recycled under this tensor
  return finish(arr, s, dtype, opts, 'fromTypedArray', false);
}

/** Uninitialised (zero-filled on the CPU) tensor of `shape`. */
export function empty(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return full(shape, 0, opts);
}
/** Zeros of `shape`. */
export function zeros(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return full(shape, 0, opts);
}
/** Ones of `shape`. */
export function ones(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return full(shape, 1, opts);
}
/** `shape` filled with `value`. */
export function full(shape: readonly number[], value: number, opts: CreateOptions = {}): Tensor {
  const s = checkShape(shape, 'full');
  const dtype = dtypeOf(opts, 'full');
  const device = opts.device ?? 'cpu';
  backendFor(device, 'full');
  if (opts.requiresGrad && !isFloat(dtype))
    throw new TypeError(`full: only float tensors can require gradients, got ${dtype}`);
  if (typeof value !== 'number') throw new TypeError(`full: value must be a number, got ${typeof value}`);
  // filled on the device by its 'fill' kernel: no host array, no transfer
  const t = empty_(s, dtype, device, false);
  runKernel<FillKernel>('fill', device, t.storage.buffer, 0, t.numel, value);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}
/** Zeros with the shape, dtype and device of `t`. */
export function zerosLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  return full(t.shape, 0, { dtype: t.dtype, device: t.device, ...opts });
}
/** Ones with the shape, dtype and device of `t`. */
export function onesLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  return full(t.shape, 1, { dtype: t.dtype, device: t.device, ...opts });
}
/** `value` with the shape, dtype and device of `t`. */
export function fullLike(t: Tensor, value: number, opts: CreateOptions = {}): Tensor {
  return full(t.shape, value, { dtype: t.dtype, device: t.device, ...opts });
}

/** [start, end) by `step`: arange(n), arange(start, end), arange(start, end, step). */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  const [s, e] = end === undefined ? [0, start] : [start, end];
  if (step === 0 || !Number.isFinite(step))
    throw new RangeError(`arange: step must be a non-zero finite number, got ${step}`);
  const n = Math.max(0, Math.ceil((e - s) / step));
  const allInt = Number.isInteger(s) && Number.isInteger(step);
  const dtype = dtypeOf(opts, 'arange', opts.dtype ?? (allInt ? 'int32' : 'float32'));
  const arr = takeBuffer(dtype, n, false);
  for (let i = 0; i < n; i++) arr[i] = s + i * step;
  return finish(arr, [n], dtype, opts, 'arange');
}

/** `steps` evenly spaced values from start to end inclusive. */
export function linspace(start: number, end: number, steps: number, opts: CreateOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0)
    throw new RangeError(`linspace: steps must be a non-negative integer, got ${steps}`);
  const dtype = dtypeOf(opts, 'linspace');
  const arr = takeBuffer(dtype, steps, false);
  for (let i = 0; i < steps; i++) arr[i] = steps === 1 ? start : start + ((end - start) * i) / (steps - 1);
  return finish(arr, [steps], dtype, opts, 'linspace');
}

/** Identity matrix [n, m] (m defaults to n). */
export function eye(n: number, m = n, opts: CreateOptions = {}): Tensor {
  const s = checkShape([n, m], 'eye');
  const dtype = dtypeOf(opts, 'eye');
  const arr = takeBuffer(dtype, n * m, true);
  for (let i = 0; i < Math.min(n, m); i++) arr[i * m + i] = 1;
  return finish(arr, s, dtype, opts, 'eye');
}

/** Uniform [0, 1) samples of `shape`. */
export function rand(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  const s = checkShape(shape, 'rand');
  const dtype = dtypeOf(opts, 'rand');
  if (!isFloat(dtype)) throw new TypeError(`rand: dtype must be float32 or float64, got ${dtype}`);
  const g = opts.generator ?? defaultGenerator;
  const arr = takeBuffer(dtype, numelOf(s), false);
  for (let i = 0; i < arr.length; i++) arr[i] = g.random();
  return finish(arr, s, dtype, opts, 'rand');
}

/** Standard normal samples of `shape`. */
export function randn(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  const s = checkShape(shape, 'randn');
  const dtype = dtypeOf(opts, 'randn');
  if (!isFloat(dtype)) throw new TypeError(`randn: dtype must be float32 or float64, got ${dtype}`);
  const g = opts.generator ?? defaultGenerator;
  const arr = takeBuffer(dtype, numelOf(s), false);
  for (let i = 0; i < arr.length; i++) arr[i] = g.normal();
  return finish(arr, s, dtype, opts, 'randn');
}

/** Uniform integers in [low, high) of `shape` (int32 by default). */
export function randint(
  low: number,
  high: number,
  shape: readonly number[],
  opts: RandomOptions = {},
): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new RangeError(`randint: need integers low < high, got ${low} and ${high}`);
  }
  const s = checkShape(shape, 'randint');
  const dtype = dtypeOf(opts, 'randint', 'int32');
  // every value of [low, high) must be exact in the output dtype
  const [lo, hi, what] =
    dtype === 'int32'
      ? [INT32_MIN, INT32_MAX + 1, 'int32 holds [-2^31, 2^31)']
      : dtype === 'float32'
        ? [-16777216, 16777217, 'float32 holds every integer only in [-2^24, 2^24]']
        : [
            -Number.MAX_SAFE_INTEGER,
            Number.MAX_SAFE_INTEGER + 1,
            'float64 holds every integer only in [-(2^53 - 1), 2^53 - 1]',
          ];
  if (low < lo || high > hi || high - low > 9007199254740992) {
    throw new RangeError(
      `randint: [${low}, ${high}) does not fit dtype ${dtype} (${what}${dtype === 'float64' ? ', range at most 2^53' : ''}); ` +
        (dtype === 'float64' ? 'narrow the range' : 'narrow the range or pass { dtype: ' + "'float64' }"),
    );
  }
  const g = opts.generator ?? defaultGenerator;
  const arr = takeBuffer(dtype, numelOf(s), false);
  for (let i = 0; i < arr.length; i++) arr[i] = g.int(low, high);
  return finish(arr, s, dtype, opts, 'randint');
}
