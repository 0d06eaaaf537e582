/**
 * Opening buffers inside kernels. A CPU buffer is its typed array; a sim buffer opens only while a
 * kernel runs (so code that reaches past the registry fails loudly on 'sim'); a CUDA buffer never
 * opens on the host. Kernels of host backends (cpu, sim) are the only callers.
 */
import type { TypedArray } from '../dtype.js';
import type { DeviceBuffer } from './types.js';

type Opener = (buf: DeviceBuffer) => TypedArray | undefined;
const openers: Opener[] = [];

/** Lets a host-kernel backend (sim) open its own buffers. */
export function registerHostOpener(open: Opener): void {
  openers.push(open);
}

/** The host array behind `buf` (kernels of host backends only). */
export function hostArray(buf: DeviceBuffer): TypedArray {
  if (ArrayBuffer.isView(buf)) return buf as unknown as TypedArray;
  for (const open of openers) {
    const a = open(buf);
    if (a !== undefined) return a;
  }
  throw new Error("hostArray: this buffer is device memory; only its own backend's kernels can read it");
}

/** A CPU buffer is its typed array (the CPU backend's and the pool's view of a buffer). */
export function cpuBuffer(data: TypedArray): DeviceBuffer {
  return data as unknown as DeviceBuffer;
}
