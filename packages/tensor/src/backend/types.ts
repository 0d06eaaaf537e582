/**
 * The device seam. A tensor's storage holds an opaque `DeviceBuffer` owned by the backend of its
 * device; nothing outside that backend's kernels reads or writes its contents. The host reaches
 * data only through the backend's transfers (`toHost` / `fromHost`), which is what
 * `t.dataSync()`, `await t.data()`, `t.item()`, `tensor(data, { device })` and `t.to(device)` use.
 *
 * Devices: 'cpu' (always), 'sim' (tests: host memory behind opaque handles, CPU kernels, transfer
 * counters; enable it with `enableSimDevice()` from `@nl/tensor/testing`), 'cuda' / 'cuda:N'
 * (once a CUDA backend registers).
 */
import type { DType, TypedArray } from '../dtype.js';

/** Where a tensor lives. */
export type Device = 'cpu' | 'sim' | 'cuda' | `cuda:${number}`;

declare const deviceBufferBrand: unique symbol;
/**
 * A backend-owned buffer. Opaque: on the CPU it happens to be a typed array, on 'sim' a handle
 * only the sim backend can open, on CUDA a device pointer. Kernels open it with `hostArray()`.
 */
export interface DeviceBuffer {
  readonly [deviceBufferBrand]: true;
}

/** Host<->device transfer counters (the sim backend counts; the CPU backend has no transfers). */
export interface TransferStats {
  /** host -> device copies and their bytes */
  uploads: number;
  uploadBytes: number;
  /** device -> host copies and their bytes */
  downloads: number;
  downloadBytes: number;
}

/**
 * What a device provides besides its kernels (which live in the kernel registry, keyed by the
 * backend's `name`): buffers and transfers.
 */
export interface Backend {
  /** Registry key of this backend's kernels: 'cpu' | 'sim' | 'cuda'. */
  readonly name: string;
  /** A buffer of `n` elements of `dtype`, zero-filled unless `zero` is false. */
  allocate(dtype: DType, n: number, zero?: boolean): DeviceBuffer;
  /**
   * A buffer holding `data` (host -> device). The CPU backend adopts the array itself when `adopt`
   * is true (zero-copy); device backends always copy.
   */
  fromHost(data: TypedArray, dtype: DType, adopt: boolean): DeviceBuffer;
  /** Elements [offset, offset + n) of a buffer, copied to a fresh host array (device -> host). */
  toHost(buf: DeviceBuffer, dtype: DType, offset: number, n: number): TypedArray;
  /** The async form of `toHost` (does not block the event loop on a device that has a queue). */
  toHostAsync(buf: DeviceBuffer, dtype: DType, offset: number, n: number): Promise<TypedArray>;
  /** The buffer's last user is gone; `poolable` says the backend may recycle it. */
  release(buf: DeviceBuffer, dtype: DType, poolable: boolean): void;
  /**
   * Backends whose kernels run on the host (cpu, sim): the host array behind a buffer. Only kernels
   * call this (through `hostArray`); the sim backend refuses outside a kernel.
   */
  readonly host?: {
    open(buf: DeviceBuffer): TypedArray;
    /** Wraps an array a kernel produced as a buffer of this device (no transfer). */
    adopt(data: TypedArray): DeviceBuffer;
  };
}
