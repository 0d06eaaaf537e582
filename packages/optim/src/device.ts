/**
 * Tensor parameters on any device. An @nl/tensor `Tensor` parameter is stepped by the update
 * kernels of its device (registered in the tensor kernel registry as `optim.*`, see
 * src/kernels/), and its state (momentum buffers, moments, ...) is tensors on the same device.
 * Nothing here opens a buffer: these are the host-side helpers that allocate state, check a
 * group's device, and (only for explicit save / load) move state to and from the host.
 * Anything that is not a Tensor (`paramFromArrays`, another library's arrays) keeps the
 * host-array path: the optimizers' pure update functions on the live `view` / `gradView`.
 */
import { keep, tensor, Tensor, zeros, type Device } from '@nl/tensor';
import { numel, type FloatArray, type ParamLike } from './param.js';
import { decodeValue, encodeValue, type EncodedValue, type StateValue } from './serialize.js';

/** True for an @nl/tensor Tensor (stepped on its device by the `optim.*` kernels). */
export function isTensorParam(p: unknown): p is Tensor {
  return p instanceof Tensor;
}

/** Where a parameter lives, for messages: `'sim'` or "host arrays (not a Tensor)". */
export function deviceLabel(device: Device | null): string {
  return device === null ? 'host arrays (not a Tensor)' : `'${device}'`;
}

/**
 * The device of a parameter group: the Tensors' device, or null for plain host arrays.
 * @throws when the group mixes devices (or Tensors and plain arrays), naming both
 */
export function groupDevice(where: string, params: readonly ParamLike[]): Device | null {
  let device: Device | null | undefined;
  let first = 0;
  params.forEach((p, i) => {
    const d = isTensorParam(p) ? p.device : null;
    if (device === undefined) {
      device = d;
      first = i;
    } else if (d !== device)
      throw new Error(
        `${where}: mixes devices: parameter ${first} is on ${deviceLabel(device)} and parameter ${i} on ` +
          `${deviceLabel(d)}; put each device's parameters in a group of their own`,
      );
  });
  return device ?? null;
}

/** Checks a Tensor parameter without reading its data (float dtype, contiguous, alive). */
export function checkTensorParam(p: Tensor, where: string): void {
  p.assertLive(where);
  if (p.dtype !== 'float32' && p.dtype !== 'float64')
    throw new TypeError(`${where}: parameter must be float32 or float64, got ${p.dtype}`);
  if (!p.isContiguous) throw new Error(`${where}: parameter must be contiguous (call .contiguous() first)`);
}

/** A zero state tensor on `p`'s device (p's shape, p's dtype unless given); survives tidy. */
export function stateZeros(p: Tensor, dtype: 'float32' | 'float64' = p.dtype as 'float32'): Tensor {
  return keep(zeros(p.shape, { dtype, device: p.device }));
}

/** Encodes a state value for stateDict: a device tensor is downloaded (explicit save). */
export function encodeState(v: StateValue | Tensor): EncodedValue {
  return v instanceof Tensor ? encodeValue(v.dataSync() as FloatArray) : encodeValue(v);
}

/**
 * Decodes a stateDict value for a parameter: arrays become tensors on `p`'s device (one upload
 * each, explicit load) when `p` is a Tensor, host arrays otherwise.
 */
export function decodeState(v: EncodedValue, p: ParamLike, where: string): StateValue | Tensor {
  const d = decodeValue(v, where);
  if (typeof d === 'number' || !isTensorParam(p)) return d;
  const shape = d.length === numel(p.shape) ? p.shape : [d.length];
  return keep(tensor(d, { shape, device: p.device }));
}

/** Frees the tensors of a parameter state (host values are left to the GC). */
export function disposeState(s: Record<string, unknown>): void {
  for (const v of Object.values(s)) if (v instanceof Tensor) v.dispose();
}
