/**
 * The CPU backend's buffers: typed arrays from the recycling pool (src/pool.ts). Its kernels are
 * registered under 'cpu' in the kernel registry by src/backends/cpu-kernels.ts (JS kernels
 * generated per op, and the addon's threaded SIMD kernels for float tensors).
 */
import type { DType, TypedArray } from '../dtype.js';
import { allocArray } from '../dtype.js';
import type { Backend, DeviceBuffer } from '../backend/types.js';
import { cpuBuffer } from '../backend/host.js';
import { giveBuffer, takeBuffer } from '../pool.js';

const arr = (b: DeviceBuffer): TypedArray => b as unknown as TypedArray;

/** A fresh host copy of src[offset, offset + n) (new + set: one memcpy; `slice` is ~4x slower on V8 for MBs). */
function copyOut(src: TypedArray, dtype: DType, offset: number, n: number): TypedArray {
  const out = allocArray(dtype, n);
  out.set(offset === 0 && n === src.length ? src : src.subarray(offset, offset + n));
  return out;
}

export const cpuBackend: Backend = {
  name: 'cpu',
  allocate: (dtype, n, zero = true) => cpuBuffer(takeBuffer(dtype, n, zero)),
  fromHost(data, dtype, adopt) {
    if (adopt) return cpuBuffer(data);
    const out = takeBuffer(dtype, data.length, false);
    out.set(data);
    return cpuBuffer(out);
  },
  toHost: (buf, dtype, offset, n) => copyOut(arr(buf), dtype, offset, n),
  toHostAsync: (buf, dtype, offset, n) => Promise.resolve(copyOut(arr(buf), dtype, offset, n)),
  release(buf, dtype, poolable) {
    if (poolable) giveBuffer(arr(buf), dtype);
  },
  host: { open: arr, adopt: cpuBuffer },
};
