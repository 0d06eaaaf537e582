/**
 * In-place writes (PyTorch's trailing-underscore names): fill_, zero_, copy_. They change the
 * tensor's storage (every view of it sees the change) and are not recorded by autograd, so they
 * refuse a tensor that requires grad while grad mode is on (use them under noGrad, as optimizers
 * do). Each write bumps the storage's version; a backward that needs values saved before the
 * write throws instead of using the new ones.
 */
import { Tensor } from '../tensor.js';
import { isGradEnabled } from '../autograd/grad-mode.js';
import { broadcastStrides, fmtShape } from '../shape.js';
import { runKernel } from '../device.js';
import type { AssignKernel, FillViewKernel } from '../kernels/layout-kernels.js';
import { checkOperands } from './helpers.js';

function checkWritable(where: string, t: Tensor): void {
  checkOperands(where, t);
  if (t.requiresGrad && isGradEnabled()) {
    throw new Error(`${where}: in-place write to a tensor that requires grad; wrap it in noGrad(() => ...)`);
  }
}

/** Sets every element to `value`; returns `t`. */
export function fill_(t: Tensor, value: number): Tensor {
  checkWritable('fill_', t);
  if (typeof value !== 'number') throw new TypeError(`fill_: value must be a number, got ${typeof value}`);
  t.storage.version++;
  runKernel<FillViewKernel>('fillView', t.device, t, value);
  return t;
}

/** Sets every element to 0; returns `t`. */
export function zero_(t: Tensor): Tensor {
  return fill_(t, 0);
}

/** Copies `src` (broadcast to t's shape, converted to t's dtype) into `t`; returns `t`. */
export function copy_(t: Tensor, src: Tensor): Tensor {
  checkWritable('copy_', t);
  checkOperands('copy_', t, src);
  const s = broadcastStrides(src.shape, src.strides, t.shape);
  if (src.ndim > t.ndim || src.shape.some((d, i) => d !== 1 && d !== t.shape[t.ndim - src.ndim + i])) {
    throw new RangeError(
      `copy_: source shape ${fmtShape(src.shape)} cannot be broadcast to ${fmtShape(t.shape)}`,
    );
  }
  // a source that overlaps the destination is read from a snapshot first
  t.storage.version++;
  runKernel<AssignKernel>(
    'assign',
    t.device,
    t,
    t.offset,
    t.strides,
    src,
    s,
    t.shape,
    src.storage === t.storage,
  );
  return t;
}
