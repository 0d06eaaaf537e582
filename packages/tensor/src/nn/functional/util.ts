/**
 * Shared plumbing of the fused NN ops: input checks with clear messages, flat data access,
 * wrapping result arrays as tensors, and lazy op registration (each op registers with the
 * custom-op table on first use, so importing nn/ has no side effects). The fused ops' forward and
 * backward here are their CPU implementations: `lazyOp` registers them as the 'cpu' kernels of
 * `<op>.forward` / `<op>.backward` (run on 'sim' too); `floats` / `ints` open operands and `wrap`
 * adopts results on the running kernel's device, so they work only inside those kernels.
 */
import { defineOp, type CustomOp, type Tensor } from '../core.js';
import type { BackwardFn, ForwardFn } from '../../autograd/custom-op.js';
import { elementsOf } from '../../kernels/host.js';
import { adoptOutput } from '../../ops/adopt.js';
import { takeBuffer } from '../../pool.js';
import type { FloatArray } from './kernels/cross-entropy.js';

export type { FloatArray };

const fmt = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** Throws unless `t` is a live float32/float64 CPU tensor; `what` names it in the message. */
export function checkFloat(op: string, what: string, t: Tensor): void {
  if (t === null || typeof t !== 'object' || !('dtype' in t)) {
    throw new TypeError(`${op}: ${what} must be a Tensor, got ${t === null ? 'null' : typeof t}`);
  }
  t.assertLive(`${op} (${what})`);
  if (t.dtype !== 'float32' && t.dtype !== 'float64') {
    throw new TypeError(`${op}: ${what} must be float32 or float64, got ${t.dtype} ${fmt(t.shape)}`);
  }
}

/** Throws unless `t` is a live int32 CPU tensor. */
export function checkInt(op: string, what: string, t: Tensor): void {
  if (t === null || typeof t !== 'object' || !('dtype' in t)) {
    throw new TypeError(`${op}: ${what} must be a Tensor, got ${t === null ? 'null' : typeof t}`);
  }
  t.assertLive(`${op} (${what})`);
  if (t.dtype !== 'int32')
    throw new TypeError(`${op}: ${what} must be int32, got ${t.dtype} ${fmt(t.shape)}`);
}

/** Throws unless `a` and `b` have the same dtype. */
export function checkSameDtype(op: string, a: [string, Tensor], b: [string, Tensor]): void {
  if (a[1].dtype !== b[1].dtype) {
    throw new TypeError(
      `${op}: ${a[0]} is ${a[1].dtype} but ${b[0]} is ${b[1].dtype}; convert one with .to()`,
    );
  }
}

/** Throws unless `t` is 1-D of length `n`. */
export function checkVector(op: string, what: string, t: Tensor, n: number, ofWhat: string): void {
  if (t.shape.length !== 1 || t.shape[0] !== n) {
    throw new RangeError(`${op}: ${what} must have shape [${n}] (${ofWhat}), got ${fmt(t.shape)}`);
  }
}

/**
 * A float tensor's elements in row-major order, READ-ONLY: the live storage when the tensor is
 * contiguous (no copy), else a contiguous copy. Kernels never write into it.
 */
export function floats(t: Tensor): FloatArray {
  return elementsOf(t) as FloatArray;
}

/**
 * Like `floats`, but converted to `like`'s float dtype when they differ (native kernels need
 * every float array of a call in one dtype; e.g. an upstream gradient of another dtype).
 */
export function floatsAs(t: Tensor, like: { dtype: string }): FloatArray {
  const v = floats(t);
  if (like.dtype === 'float64') return v instanceof Float64Array ? v : Float64Array.from(v);
  return v instanceof Float32Array ? v : Float32Array.from(v);
}

/** An int32 tensor's elements in row-major order, read-only (live when contiguous). */
export function ints(t: Tensor): Int32Array {
  return elementsOf(t) as Int32Array;
}

/** A fresh array of the same float type as `like`. */
export function alloc(like: { dtype: string }, n: number): FloatArray {
  // zeroed; large ones from the buffer pool (fresh typed arrays per op cost page faults and GC)
  return takeBuffer(like.dtype === 'float64' ? 'float64' : 'float32', n, true) as FloatArray;
}

/**
 * Wraps an array a kernel produced (from `alloc`, or another array nothing else holds) as a tensor
 * on the kernel's device (zero-copy); on the CPU the array is recycled after the tensor is gone.
 */
export function wrap(data: FloatArray | Int32Array, shape: readonly number[]): Tensor {
  return adoptOutput(data, shape, undefined, true);
}

/** A float array of `like`'s dtype holding a copy of `values` (e.g. float64 weight grads). */
export function castArray(values: Float64Array, like: { dtype: string }): FloatArray {
  return like.dtype === 'float64' ? values : Float32Array.from(values);
}

/** A fused op whose forward and backward are CPU implementations. */
export interface CpuOpSpec {
  name: string;
  forward: ForwardFn<Record<string, any>>;
  backward: BackwardFn<Record<string, any>>;
}

/** Registers `spec` (as the op's 'cpu' kernels) with `defineOp` on first call and applies it. */
export function lazyOp(spec: CpuOpSpec): (inputs: Tensor[], attrs: Record<string, unknown>) => Tensor {
  let op: CustomOp<Record<string, any>> | null = null;
  return (inputs, attrs) => {
    op ??= defineOp({ name: spec.name, forward: { cpu: spec.forward }, backward: { cpu: spec.backward } });
    return op(inputs, attrs) as Tensor;
  };
}

export { fmt };
