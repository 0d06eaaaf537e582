/**
 * Inside a kernel of a host backend (cpu, sim): wrap an array the kernel produced as a tensor on
 * that device, without a transfer (the CPU adopts it zero-copy; 'sim' wraps it in a handle). This
 * is how CPU implementations of fused ops (native kernels that return fresh arrays) hand their
 * results back on any host device.
 */
import type { TypedArray } from '../dtype.js';
import { dtypeOfArray } from '../dtype.js';
import type { Device } from '../device.js';
import { backendFor, insideKernel, kernelDevice } from '../device.js';
import { Storage } from '../storage.js';
import { Tensor } from '../tensor.js';
import { contiguousStrides, fmtShape, numelOf } from '../shape.js';
import { POOL_MIN_ELEMENTS } from '../pool.js';

/**
 * A tracked tensor over `data` on `device` (default: the device of the running kernel, else the
 * CPU). Kernels of host backends only, off the CPU. `recycle`: nothing else holds `data` (e.g. it
 * came from `takeBuffer`), so on the CPU it goes back to the buffer pool once the tensor and its
 * autograd aliases are gone.
 */
export function adoptOutput(
  data: TypedArray,
  shape: readonly number[],
  device: Device = kernelDevice() ?? 'cpu',
  recycle = false,
): Tensor {
  const dtype = dtypeOfArray(data, 'adoptOutput');
  if (numelOf(shape) !== data.length)
    throw new RangeError(`adoptOutput: ${data.length} elements do not fill shape ${fmtShape(shape)}`);
  const backend = backendFor(device, 'adoptOutput');
  if (backend.host === undefined) throw new Error(`adoptOutput: ${device} buffers are not host memory`);
  if (device !== 'cpu' && !insideKernel())
    throw new Error('adoptOutput: only a kernel can adopt a host array');
  const buf = backend.host.adopt(data);
  const pooled = recycle && device === 'cpu' && data.length >= POOL_MIN_ELEMENTS;
  return new Tensor(
    new Storage(buf, data.length, dtype, device, pooled),
    shape.slice(),
    contiguousStrides(shape),
    0,
  );
}
