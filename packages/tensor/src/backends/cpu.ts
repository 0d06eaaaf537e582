/**
 * The CPU backend's buffers: typed arrays from the recycling pool (src/pool.ts). Its kernels are
 * registered under 'cpu' in the kernel registry by src/backends/cpu-kernels.ts (JS kernels
 * generated per op, and the addon's threaded SIMD kernels for float tensors).
 */
import type { TypedArray } from '../dtype.js';
import type { Backend, DeviceBuffer } from '../backend/types.js';
import { cpuBuffer } from '../backend/host.js';
import { giveBuffer, takeBuffer } from '../pool.js';

const arr = (b: DeviceBuffer): TypedArray => b as unknown as TypedArray;

export const cpuBackend: Backend = {
  name: 'cpu',
  allocate: (dtype, n, zero = true) => cpuBuffer(takeBuffer(dtype, n, zero)),
  fromHost(data, dtype, adopt) {
    if (adopt) return cpuBuffer(data);
    const out = takeBuffer(dtype, data.length, false);
    out.set(data);
    return cpuBuffer(out);
  },
  toHost: (buf, _dtype, offset, n) => arr(buf).slice(offset, offset + n),
  toHostAsync: (buf, _dtype, offset, n) => Promise.resolve(arr(buf).slice(offset, offset + n)),
  release(buf, dtype, poolable) {
    if (poolable) giveBuffer(arr(buf), dtype);
  },
  host: { open: arr, adopt: cpuBuffer },
};
