/**
 * Small helpers shared by the ops: fresh outputs, strided views for the kernels, scalar operands,
 * and the checks every op runs (live, same device).
 */
import type { DType } from '../dtype.js';
import { scalarDType } from '../dtype.js';
import type { Device, KernelOperand } from '../device.js';
import { backendFor, runKernel } from '../device.js';
import { Storage } from '../storage.js';
import { Tensor } from '../tensor.js';
import { broadcastStrides, contiguousStrides, numelOf } from '../shape.js';
import { POOL_MIN_ELEMENTS } from '../pool.js';
import type { FillKernel } from '../backends/cpu-kernels.js';
import '../backends/cpu-kernels.js';

/** A tensor operand or a JS number. */
export type TensorOrNumber = Tensor | number;

/**
 * A fresh contiguous tracked tensor, zero-filled unless `zero` is false (callers that overwrite
 * every element pass false and may get a recycled buffer with stale contents).
 */
export function empty_(shape: readonly number[], dtype: DType, device: Device = 'cpu', zero = true): Tensor {
  const n = numelOf(shape);
  const buf = backendFor(device, `tensor on ${device}`).allocate(dtype, n, zero);
  return new Tensor(
    new Storage(buf, n, dtype, device, n >= POOL_MIN_ELEMENTS),
    shape.slice(),
    contiguousStrides(shape),
    0,
  );
}

/** An untracked 0-d tensor holding `value` (kernel operand for scalars). */
export function scalarOperand(value: number, dtype: DType, device: Device = 'cpu'): Tensor {
  const buf = backendFor(device).allocate(dtype, 1, false);
  runKernel<FillKernel>('fill', device, buf, 0, 1, value);
  return new Tensor(new Storage(buf, 1, dtype, device), [], [], 0, false);
}

/** A kernel operand of `t` broadcast to `shape`. */
export function viewOf(t: Tensor, shape: readonly number[] = t.shape): KernelOperand {
  return { buffer: t.storage.buffer, offset: t.offset, strides: broadcastStrides(t.shape, t.strides, shape) };
}

/** Checks that every tensor is live and that they share one device; returns the device. */
export function checkOperands(where: string, ...ts: Tensor[]): Device {
  for (const t of ts) {
    if (!(t instanceof Tensor))
      throw new TypeError(`${where}: expected a Tensor, got ${t === null ? 'null' : typeof t}`);
    t.assertLive(where);
  }
  const dev = ts[0].device;
  for (const t of ts) {
    if (t.device !== dev)
      throw new Error(`${where}: tensors are on different devices (${dev} and ${t.device})`);
  }
  return dev;
}

/** Turns numbers into untracked scalar tensors next to `other`. */
export function operands(where: string, a: TensorOrNumber, b: TensorOrNumber): [Tensor, Tensor] {
  if (typeof a === 'number' && typeof b === 'number') {
    return [scalarOperand(a, 'float32'), scalarOperand(b, 'float32')];
  }
  if (typeof a === 'number') {
    checkOperands(where, b as Tensor);
    return [scalarOperand(a, scalarDType(a, (b as Tensor).dtype), (b as Tensor).device), b as Tensor];
  }
  if (typeof b === 'number') {
    checkOperands(where, a);
    return [a, scalarOperand(b, scalarDType(b, a.dtype), a.device)];
  }
  checkOperands(where, a, b);
  return [a, b];
}

/** A tracked view of `t` with a new layout over the same storage. */
export function makeView(
  t: Tensor,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
): Tensor {
  return new Tensor(t.storage, shape, strides, offset);
}
