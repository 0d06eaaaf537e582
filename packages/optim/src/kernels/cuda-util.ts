/**
 * Building blocks of the 'cuda' optimizer kernels (./cuda.ts, ./cuda-state.ts): device operands
 * of tensors, scratch buffers freed after the work is queued, the elementwise updates of
 * native/src/cuda/kernels/optim.h (`ew`), sums of squares reduced on the device into a float64
 * device scalar (`sumSquares`), and Newton–Schulz on the CUDA GEMM (`newtonSchulzCuda`, the
 * arithmetic of native/src/cpu/newton_schulz.cc). Nothing here reads device memory back.
 */
import { native, OP_CODES, type CudaDType } from '@nl/native';
import type { Tensor } from '@nl/tensor';
import {
  cudaDeviceOf,
  cudaDType,
  cudaDTypeOf,
  cudaPointer,
  cudaScratch,
  releaseCudaScratch,
  type CudaDevice,
  type DeviceBuffer,
} from '@nl/tensor/internal';
import { NS_COEFFS } from '../newton_schulz.js';

/** Update codes of native.cudaOptimEw (native/src/cuda/kernels/optim.h). */
export const EW = {
  sgd: 0,
  adam: 1,
  muonMomentum: 2,
  muonApply: 3,
  delta: 4,
  clipScale: 5,
  m3Moments: 6,
  m3Direction: 7,
  m3Apply: 8,
  m3Slow: 9,
  dmgdKey: 10,
  dmgdApply: 11,
  axpby: 12,
  tanh: 13,
  tanhBackward: 14,
  sub: 15,
  precondRms: 16,
} as const;

export type FloatDType = 'float32' | 'float64';

/** A contiguous run of device elements: buffer address, element offset, dtype code. */
export interface Span {
  ptr: number;
  off: number;
  dt: CudaDType;
}

/** Scratch buffers of one kernel call, freed together (stream-ordered) when it has queued its work. */
export class Scratch {
  readonly #bufs: DeviceBuffer[] = [];
  constructor(readonly device: CudaDevice) {}
  /** A scratch span of n elements (zeroed when `zero`). */
  alloc(dtype: FloatDType, n: number, zero = false): Span {
    const b = cudaScratch(this.device, dtype, n, zero);
    this.#bufs.push(b);
    return { ptr: cudaPointer(b), off: 0, dt: cudaDTypeOf(dtype) };
  }
  release(): void {
    for (const b of this.#bufs.splice(0)) releaseCudaScratch(b);
  }
}

/** Runs `fn` with a scratch pool on `t`'s device, freeing it afterwards. */
export function withScratch<R>(t: Tensor, fn: (s: Scratch) => R): R {
  const s = new Scratch(cudaDeviceOf(t.storage.buffer));
  try {
    return fn(s);
  } finally {
    s.release();
  }
}

/** The elements of a contiguous tensor (parameters and state, written in place). */
export function span(t: Tensor): Span {
  if (!t.isContiguous) throw new Error(`optim (cuda): tensor [${t.shape.join(', ')}] must be contiguous`);
  return { ptr: cudaPointer(t.storage.buffer), off: t.offset, dt: cudaDType(t.storage.buffer) };
}

/**
 * A read-only operand of `t` as `dtype`, contiguous: the tensor itself, or a converted /
 * gathered copy in scratch (what the CPU's gradView gathers).
 */
export function readAs(t: Tensor, dtype: FloatDType, s: Scratch): Span {
  if (t.isContiguous && t.dtype === dtype) return span(t);
  const out = s.alloc(dtype, t.numel);
  if (t.numel > 0)
    native.cudaCopy(out.ptr, out.dt, t.shape, cudaPointer(t.storage.buffer), cudaDType(t.storage.buffer), t.offset, t.strides); // prettier-ignore
  return out;
}

/** Contiguous copy of n elements (same dtype). */
export function copySpan(dst: Span, src: Span, n: number): void {
  if (dst.off !== 0) throw new Error('optim (cuda): copy target must start at element 0');
  if (n > 0) native.cudaCopy(dst.ptr, dst.dt, [n], src.ptr, src.dt, src.off, [1]);
}

/**
 * One elementwise update over n elements: operands in slot order (null where an optional one is
 * absent), an optional float64 device scalar, hyperparameters and flag bits.
 */
export function ew(
  kind: number,
  dt: CudaDType,
  n: number,
  ops: readonly (Span | null)[],
  h: readonly number[] = [],
  flags: readonly boolean[] = [],
  scalar: Span | null = null,
): void {
  if (n === 0) return;
  let f = 0;
  flags.forEach((b, i) => (f |= b ? 1 << i : 0));
  native.cudaOptimEw(
    kind,
    dt,
    n,
    ops.map((o) => (o ? o.ptr : null)),
    ops.map((o) => (o ? o.off : 0)),
    scalar ? scalar.ptr : null,
    scalar ? scalar.off : 0,
    h,
    f,
  );
}

/** Tensors per multi-tensor launch (kOptimMultiTensors in native/src/cuda/kernels/optim.h). */
export const MULTI_TENSORS = 16;

/** One tensor's part of a multi-tensor update. */
export interface EwPart {
  ops: readonly (Span | null)[];
  n: number;
  h: readonly number[];
}

/**
 * Update `kind` over many tensors of one dtype in launches of up to MULTI_TENSORS tensors each
 * (torch's multi_tensor_apply): a step over L tensors is ceil(L / 16) launches instead of L.
 */
export function ewMulti(
  kind: number,
  dt: CudaDType,
  parts: readonly EwPart[],
  flags: readonly boolean[] = [],
): void {
  let f = 0;
  flags.forEach((b, i) => (f |= b ? 1 << i : 0));
  const live = parts.filter((p) => p.n > 0);
  for (let i = 0; i < live.length; i += MULTI_TENSORS) {
    const group = live.slice(i, i + MULTI_TENSORS).map((p) => ({
      ptrs: p.ops.map((o) => (o ? o.ptr : null)),
      offs: p.ops.map((o) => (o ? o.off : 0)),
      n: p.n,
      h: p.h,
    }));
    native.cudaOptimEwMulti(kind, dt, f, null, 0, group);
  }
}

const REDUCE_THREADS = 256;
const MAX_BLOCKS = 256;

/**
 * out ← Σ over all spans of Σ x² (double, on the device), then sqrt (`takeSqrt`) or ·mul. Two
 * launches per span and one to finish; the order is fixed, so results repeat run to run.
 */
export function sumSquares(
  s: Scratch,
  items: readonly { at: Span; n: number }[],
  out: Span,
  takeSqrt = false,
  mul = 1,
): void {
  const blocks = items.map(({ n }) => Math.min(MAX_BLOCKS, Math.ceil(n / REDUCE_THREADS)));
  const total = blocks.reduce((a, b) => a + b, 0);
  const partial = s.alloc('float64', total);
  let at = 0;
  items.forEach(({ at: x, n }, i) => {
    if (blocks[i]! > 0) native.cudaOptimSumSq(x.dt, x.ptr, x.off, n, partial.ptr, at, blocks[i]!);
    at += blocks[i]!;
  });
  native.cudaOptimFinalize(partial.ptr, 0, total, out.ptr, out.off, takeSqrt, mul);
}

/** Row-major strided batched GEMM on spans (cudaGemm): C = αAB + βC, lds and strides in elements. */
export function gemm(
  dt: CudaDType,
  tA: boolean,
  tB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Span,
  lda: number,
  sa: number,
  b: Span,
  ldb: number,
  sb: number,
  beta: number,
  c: Span,
  ldc: number,
  sc: number,
  batch = 1,
): void {
  native.cudaGemm(dt, tA, tB, m, n, k, alpha, a.ptr, a.off, lda, sa, b.ptr, b.off, ldb, sb, beta, c.ptr, c.off, ldc, sc, batch); // prettier-ignore
}

/**
 * Batched Newton–Schulz in place on `x` ([batch, rows, cols] contiguous, dtype `dtype`): the
 * normalise/transpose kernel, then per step A = XXᵀ, B = cA·A + bA, Y = B·X + aX on the GEMM.
 */
export function newtonSchulzCuda(
  s: Scratch,
  x: Span,
  dtype: FloatDType,
  batch: number,
  rows: number,
  cols: number,
  steps: number,
): void {
  if (batch * rows * cols === 0) return;
  const [ca, cb, cc] = NS_COEFFS;
  const tr = rows > cols;
  const r = tr ? cols : rows;
  const n = tr ? rows : cols;
  const mn = r * n;
  let X = s.alloc(dtype, batch * mn);
  let Y = s.alloc(dtype, batch * mn);
  const A = s.alloc(dtype, batch * r * r);
  const B = s.alloc(dtype, batch * r * r);
  const dt = X.dt;
  native.cudaOptimNsNorm(dt, x.ptr, x.off, X.ptr, 0, batch, rows, cols);
  for (let step = 0; step < steps; step++) {
    gemm(dt, false, true, r, r, n, 1, X, n, mn, X, n, mn, 0, A, r, r * r, batch);
    copySpan(B, A, batch * r * r);
    gemm(dt, false, false, r, r, r, cc, A, r, r * r, A, r, r * r, cb, B, r, r * r, batch);
    copySpan(Y, X, batch * mn);
    gemm(dt, false, false, r, n, r, 1, B, r, r * r, X, n, mn, ca, Y, n, mn, batch);
    [X, Y] = [Y, X];
  }
  // back to [batch, rows, cols]: X[b] is [r, n], transposed when rows > cols
  const strides = tr ? [mn, 1, n] : [mn, cols, 1];
  if (x.off === 0) {
    native.cudaCopy(x.ptr, x.dt, [batch, rows, cols], X.ptr, X.dt, 0, strides);
    return;
  }
  native.cudaCopy(Y.ptr, Y.dt, [batch, rows, cols], X.ptr, X.dt, 0, strides);
  copyToOffset(x, Y, batch * rows * cols, dtype);
}

/** dst[dst.off ..+n) ← src[0 ..+n) when dst does not start at its buffer's first element. */
function copyToOffset(dst: Span, src: Span, n: number, dtype: FloatDType): void {
  const max = OP_CODES.binary.maximum;
  // max(v, v) = v exactly (NaN included): a strided copy that can write at an offset
  native.cudaBinary(max, dst.ptr, cudaDTypeOf(dtype), dst.off, [n], src.ptr, src.off, [1], src.ptr, src.off, [1], cudaDTypeOf(dtype)); // prettier-ignore
}
