/**
 * Joining and padding: cat (along an existing dim), stack (along a new dim), pad (constant, PyTorch
 * F.pad order: [left, right] of the last dim first, then the dim before, ...).
 */
import { Tensor } from '../tensor.js';
import { fmtShape, normDim } from '../shape.js';
import { record } from '../autograd/tape.js';
import { defineGrad } from '../autograd/grad-table.js';
import { runKernel } from '../device.js';
import type { AssignKernel, FillViewKernel } from '../kernels/layout-kernels.js';
import { checkOperands, empty_ } from './helpers.js';
import { narrow, slice } from './slice.js';
import { unsqueeze } from './shape-ops.js';

/** Concatenates tensors (same dtype, same shape except along `dim`). */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors as unknown) || tensors.length === 0)
    throw new RangeError('cat: expected a non-empty array of tensors');
  checkOperands('cat', ...tensors);
  const first = tensors[0];
  const d = normDim(dim, first.ndim, 'cat');
  for (const t of tensors) {
    if (t.dtype !== first.dtype) throw new TypeError(`cat: dtype mismatch, ${first.dtype} and ${t.dtype}`);
    if (t.ndim !== first.ndim || t.shape.some((s, i) => i !== d && s !== first.shape[i])) {
      throw new RangeError(
        `cat: shapes ${fmtShape(first.shape)} and ${fmtShape(t.shape)} differ outside dim ${dim}`,
      );
    }
  }
  const shape = first.shape.slice();
  shape[d] = tensors.reduce((a, t) => a + t.shape[d], 0);
  const out = empty_(shape, first.dtype, first.device);
  let at = 0;
  for (const t of tensors) {
    runKernel<AssignKernel>(
      'assign',
      out.device,
      out,
      at * out.strides[d],
      out.strides,
      t,
      t.strides,
      t.shape,
      false,
    );
    at += t.shape[d];
  }
  record('cat', tensors, [out], { dim: d, sizes: tensors.map((t) => t.shape[d]) });
  return out;
}

/** Stacks same-shaped tensors along a new dim. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors as unknown) || tensors.length === 0)
    throw new RangeError('stack: expected a non-empty array of tensors');
  checkOperands('stack', ...tensors);
  const first = tensors[0];
  for (const t of tensors) {
    if (t.shape.length !== first.shape.length || t.shape.some((s, i) => s !== first.shape[i])) {
      throw new RangeError(`stack: shapes ${fmtShape(first.shape)} and ${fmtShape(t.shape)} differ`);
    }
  }
  const d = normDim(dim, first.ndim + 1, 'stack');
  const parts = tensors.map((t) => unsqueeze(t, d));
  const out = cat(parts, d);
  for (const p of parts) p.dispose();
  return out;
}

/**
 * Pads with a constant. `pads` = [left, right] for the last dim, then [top, bottom] for the one
 * before, ... (non-negative).
 */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  checkOperands('pad', x);
  if (pads.length % 2 !== 0 || pads.length / 2 > x.ndim) {
    throw new RangeError(`pad: pads [${pads.join(', ')}] must hold pairs for at most ${x.ndim} dims`);
  }
  if (pads.some((p) => !Number.isInteger(p) || p < 0))
    throw new RangeError(`pad: pads [${pads.join(', ')}] must be non-negative integers`);
  const shape = x.shape.slice();
  const before = new Array<number>(x.ndim).fill(0);
  for (let i = 0; i < pads.length / 2; i++) {
    const d = x.ndim - 1 - i;
    before[d] = pads[2 * i];
    shape[d] += pads[2 * i] + pads[2 * i + 1];
  }
  const out = empty_(shape, x.dtype, x.device);
  if (value !== 0) runKernel<FillViewKernel>('fillView', out.device, out, value);
  const off = before.reduce((a, b, d) => a + b * out.strides[d], 0);
  runKernel<AssignKernel>('assign', out.device, out, off, out.strides, x, x.strides, x.shape, false);
  record('pad', [x], [out], { before });
  return out;
}

defineGrad('cat', (c, [g]) => {
  const { dim, sizes } = c.attrs as { dim: number; sizes: number[] };
  let at = 0;
  return sizes.map((s, i) => {
    const r = c.needsInputGrad[i] ? narrow(g!, dim, at, s) : null;
    at += s;
    return r;
  });
});
defineGrad('pad', (c, [g]) => {
  const x = c.inputs[0];
  let r = g!;
  (c.attrs.before as number[]).forEach((b, d) => {
    if (b !== 0 || r.shape[d] !== x.shape[d]) r = slice(r, d, b, b + x.shape[d]);
  });
  return [r];
});
