/**
 * Devices and backends. A device string is 'cpu' | 'cuda' | 'cuda:N'. Every tensor lives on one
 * device; ops check that their operands agree. The CPU backend is always there; asking for CUDA
 * before a CUDA backend exists (or where none is usable) throws
 * "CUDA backend not available: <reason>" with the reason from `native.info().cuda.error`.
 *
 * A Backend allocates buffers and runs the kernel families (elementwise, copy, reduce, GEMM); the
 * core ops reach them through `backendFor(tensor.device)`, so a CUDA backend plugs in here. Ops
 * outside these families (indexing, scans, softmax) run CPU code and refuse other devices.
 */
import { info } from '@nl/native';
import type { DType, TypedArray } from './dtype.js';
import type { ReduceOp } from './kernels/reduce.js';
import { cpuBackend } from './backends/cpu.js';

/** Where a tensor lives. */
export type Device = 'cpu' | 'cuda' | `cuda:${number}`;

/** A strided read operand: the buffer, an element offset, strides already broadcast to the op's shape. */
export interface KernelOperand {
  readonly data: TypedArray;
  readonly offset: number;
  readonly strides: readonly number[];
}

/**
 * What a device implements for the ops. Outputs are contiguous buffers of numel(shape) elements
 * allocated by the same backend; operands are strided views (stride 0 = broadcast). Op names are
 * those of src/kernels/exprs.ts (binary/unary) and src/kernels/reduce.ts (reduce).
 * Buffers are TypedArrays on the CPU; a CUDA backend will widen `data` to its device buffers.
 */
export interface Backend {
  readonly name: 'cpu' | 'cuda';
  /** A buffer of `n` elements, zero-filled unless `zero` is false (the caller overwrites it all). */
  allocate(dtype: DType, n: number, zero?: boolean): TypedArray;
  /** out = op(a, b) elementwise over `shape`. */
  binary(op: string, out: TypedArray, shape: readonly number[], a: KernelOperand, b: KernelOperand): void;
  /** out = op(a; p0, p1) elementwise over `shape`. */
  unary(
    op: string,
    out: TypedArray,
    shape: readonly number[],
    a: KernelOperand,
    p0?: number,
    p1?: number,
  ): void;
  /** out = a (strided gather into contiguous; converts dtype when the buffers differ). */
  copy(out: TypedArray, shape: readonly number[], a: KernelOperand): void;
  /** Reduces `dims` (sorted) of the strided tensor (data, offset, shape, strides) into `out`. */
  reduce(
    op: ReduceOp,
    out: TypedArray,
    data: TypedArray,
    offset: number,
    shape: readonly number[],
    strides: readonly number[],
    dims: readonly number[],
    correction: number,
  ): void;
  /** Strided batched GEMM, the positional contract of `native.gemm` (offsets/strides in elements). */
  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: TypedArray,
    aOffset: number,
    lda: number,
    strideA: number,
    b: TypedArray,
    bOffset: number,
    ldb: number,
    strideB: number,
    beta: number,
    c: TypedArray,
    cOffset: number,
    ldc: number,
    strideC: number,
    batch: number,
  ): void;
}

export { cpuBackend };

/** True when `d` is a syntactically valid device string. */
export function isDeviceString(d: unknown): d is Device {
  return typeof d === 'string' && (d === 'cpu' || d === 'cuda' || /^cuda:\d+$/.test(d));
}

function cudaReason(): string {
  try {
    const c = info().cuda;
    if (!c.compiled) return c.error ?? 'the addon was built without CUDA';
    if (c.devices.length === 0) return c.error ?? 'no CUDA device found';
    return '@nl/tensor has no CUDA backend yet (CUDA devices exist, tensors on them are not implemented)';
  } catch (e) {
    return String((e as Error).message);
  }
}

/**
 * Validates a device string and returns the backend serving it.
 * @throws for malformed strings, and for CUDA with the reason it is unavailable
 */
export function backendFor(device: unknown, where = 'device'): Backend {
  if (device === 'cpu') return cpuBackend;
  if (!isDeviceString(device)) {
    throw new TypeError(
      `${where}: unknown device ${JSON.stringify(device)} (expected 'cpu', 'cuda' or 'cuda:N')`,
    );
  }
  if (cudaBackend !== null) return cudaBackend;
  throw new Error(`${where}: CUDA backend not available: ${cudaReason()}`);
}

let cudaBackend: Backend | null = null;

/**
 * Installs the backend that serves 'cuda' and 'cuda:N' tensors (null removes it). This is how a
 * CUDA implementation plugs in without changing the ops; tests use it with an instrumented CPU
 * backend to check the routing.
 */
export function registerCudaBackend(backend: Backend | null): void {
  cudaBackend = backend;
}
