/**
 * Moving tensors between devices: `toDevice(x, 'sim')`, `x.to('cpu')`. The data goes device ->
 * host -> device through the two backends' transfers (counted on 'sim'). Differentiable: the
 * gradient moves back to the source device.
 */
import type { Device } from '../device.js';
import { backendFor } from '../device.js';
import { Storage } from '../storage.js';
import { Tensor } from '../tensor.js';
import { contiguousStrides } from '../shape.js';
import { record } from '../autograd/tape.js';
import { defineGrad } from '../autograd/grad-table.js';
import { dataSync } from '../tensor-data.js';
import { checkOperands } from './helpers.js';

/** A contiguous copy of `x` on `device` (no recording). */
export function toDeviceRaw(x: Tensor, device: Device): Tensor {
  const target = backendFor(device, 'to');
  const host = dataSync(x);
  const buf = target.fromHost(host, x.dtype, true);
  return new Tensor(
    new Storage(buf, x.numel, x.dtype, device),
    x.shape.slice(),
    contiguousStrides(x.shape),
    0,
  );
}

/** `x` on `device` (`x` itself when it is already there). */
export function toDevice(x: Tensor, device: Device): Tensor {
  checkOperands('to', x);
  backendFor(device, 'to');
  if (x.device === device) return x;
  const out = toDeviceRaw(x, device);
  record('to', [x], [out], { from: x.device });
  return out;
}

defineGrad('to', (c, [g]) => [toDeviceRaw(g!, c.attrs.from as Device)]);
