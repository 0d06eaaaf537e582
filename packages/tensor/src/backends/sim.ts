/**
 * The simulated device 'sim', for tests. Its buffers are `SimBuffer` handles whose host array is a
 * private field: only code running inside a kernel (dispatched by the registry) can open them, so
 * any op that reaches past the registry fails on 'sim' instead of silently reading memory it
 * could not read on a GPU. Its kernels are the CPU kernels (the registry mirrors 'cpu'), so a sim
 * run equals the CPU run bit for bit. Every host<->device transfer is counted.
 */
import type { DType, TypedArray } from '../dtype.js';
import { itemSize } from '../dtype.js';
import { giveBuffer, takeBuffer } from '../pool.js';
import type { Backend, DeviceBuffer, TransferStats } from '../backend/types.js';
import { registerHostOpener } from '../backend/host.js';
import { insideKernel, mirrorBackend } from '../backend/registry.js';
import { registerBackend } from '../backend/devices.js';

/** A sim device buffer: a handle, not an array. */
class SimBuffer {
  readonly #data: TypedArray;
  constructor(data: TypedArray) {
    this.#data = data;
  }
  static open(b: unknown): TypedArray | undefined {
    if (!(b instanceof SimBuffer)) return undefined;
    if (!insideKernel())
      throw new Error(
        'sim: a device buffer was read outside a kernel (code reached past the kernel registry; use an op, or t.dataSync() / await t.data() to copy to the host)',
      );
    return b.#data;
  }
  static raw(b: DeviceBuffer): TypedArray {
    return (b as unknown as SimBuffer).#data;
  }
}

const counters: TransferStats = { uploads: 0, uploadBytes: 0, downloads: 0, downloadBytes: 0 };
const asBuffer = (s: SimBuffer): DeviceBuffer => s as unknown as DeviceBuffer;

const simBackend: Backend = {
  name: 'sim',
  // device memory is host memory from the CPU's recycling pool (so a sim step costs what a CPU
  // step does, plus the handles)
  allocate: (dtype, n, zero = true) => asBuffer(new SimBuffer(takeBuffer(dtype, n, zero))),
  fromHost(data, dtype) {
    counters.uploads++;
    counters.uploadBytes += data.length * itemSize(dtype);
    const copy = takeBuffer(dtype, data.length, false);
    copy.set(data);
    return asBuffer(new SimBuffer(copy));
  },
  toHost(buf, dtype, offset, n) {
    counters.downloads++;
    counters.downloadBytes += n * itemSize(dtype);
    return SimBuffer.raw(buf).slice(offset, offset + n);
  },
  toHostAsync(buf, dtype, offset, n) {
    return Promise.resolve().then(() => simBackend.toHost(buf, dtype, offset, n));
  },
  release(buf, dtype, poolable) {
    if (poolable) giveBuffer(SimBuffer.raw(buf), dtype);
  },
  host: {
    open: (buf) => SimBuffer.open(buf)!,
    adopt(data) {
      if (!insideKernel()) throw new Error('sim: only a kernel can adopt a host array as a device buffer');
      return asBuffer(new SimBuffer(data));
    },
  },
};

let enabled = false;

/** Installs the 'sim' device (idempotent). */
export function installSimBackend(): void {
  if (enabled) return;
  enabled = true;
  registerHostOpener(SimBuffer.open);
  mirrorBackend('sim', 'cpu');
  registerBackend('sim', simBackend);
}

/** A copy of the transfer counters. */
export function simTransfers(): TransferStats {
  return { ...counters };
}

/** Zeroes the transfer counters. */
export function resetSimTransfers(): void {
  counters.uploads = counters.uploadBytes = counters.downloads = counters.downloadBytes = 0;
}

export type { DType };
