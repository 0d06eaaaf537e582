/**
 * Devices and backends. A device string is 'cpu' | 'cuda' | 'cuda:N'. Every tensor lives on one
 * device; ops check that their operands agree. The CPU backend is always there; asking for CUDA
 * before a CUDA backend exists (or where none is usable) throws
 * "CUDA backend not available: <reason>" with the reason from `native.info().cuda.error`.
 *
 * A Backend allocates storage and runs the kernel families; today ops call the CPU kernels in
 * src/kernels through `backendFor(device)`, so a CUDA backend plugs in here later.
 */
import { info } from '@nl/native';
import type { DType, TypedArray } from './dtype.js';
import { allocArray } from './dtype.js';

/** Where a tensor lives. */
export type Device = 'cpu' | 'cuda' | `cuda:${number}`;

/** The storage side of a backend (kernels are added per family as backends grow). */
export interface Backend {
  readonly name: 'cpu' | 'cuda';
  /** Zero-filled storage for `n` elements. */
  allocate(dtype: DType, n: number): TypedArray;
}

/** The always-available CPU backend. */
export const cpuBackend: Backend = {
  name: 'cpu',
  allocate: allocArray,
};

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
  throw new Error(`${where}: CUDA backend not available: ${cudaReason()}`);
}
