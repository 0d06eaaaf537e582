/**
 * Slicing views: slice (Python-style start/end/step along one dim), narrow (strict range),
 * select (one index, dim removed), split/chunk (lists of narrow views). All share storage with
 * the input; backward writes the gradient into a zero tensor of the input's shape.
 */
import { Tensor } from '../tensor.js';
import { fmtShape, normDim } from '../shape.js';
import { record } from '../autograd/tape.js';
import { defineGrad } from '../autograd/grad-table.js';
import { runKernel } from '../device.js';
import type { AssignKernel } from '../kernels/layout-kernels.js';
import { checkOperands, empty_, makeView } from './helpers.js';
import { squeeze } from './shape-ops.js';

/** View of x along `dim` from start to end (exclusive) by step; negative start/end count from the end and are clamped like Python. */
export function slice(x: Tensor, dim: number, start = 0, end?: number, step = 1): Tensor {
  checkOperands('slice', x);
  const d = normDim(dim, x.ndim, 'slice');
  if (!Number.isInteger(step) || step <= 0)
    throw new RangeError(`slice: step must be a positive integer, got ${step}`);
  const size = x.shape[d];
  const norm = (v: number) => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
  const s = norm(start);
  const e = Math.max(s, norm(end ?? size));
  const len = Math.ceil((e - s) / step);
  const shape = x.shape.slice();
  shape[d] = len;
  const strides = x.strides.slice();
  strides[d] = x.strides[d] * step;
  const out = makeView(x, shape, strides, x.offset + (len > 0 ? s * x.strides[d] : 0));
  record('slice', [x], [out], { dim: d, start: s, step });
  return out;
}

/** View of `length` entries of `dim` from `start` (errors when out of range). */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  checkOperands('narrow', x);
  const d = normDim(dim, x.ndim, 'narrow');
  const size = x.shape[d];
  const s = start < 0 ? start + size : start;
  if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > size) {
    throw new RangeError(
      `narrow: start ${start} and length ${length} are out of range for dim ${dim} of shape ${fmtShape(x.shape)}`,
    );
  }
  return slice(x, d, s, s + length);
}

/** The entry `index` of `dim`, with that dim removed (a view). */
export function select(x: Tensor, dim: number, index: number): Tensor {
  checkOperands('select', x);
  const d = normDim(dim, x.ndim, 'select');
  const size = x.shape[d];
  const i = index < 0 ? index + size : index;
  if (!Number.isInteger(i) || i < 0 || i >= size) {
    throw new RangeError(`select: index ${index} is out of range for dim ${dim} of size ${size}`);
  }
  const n = narrow(x, d, i, 1);
  const out = squeeze(n, d);
  n.dispose();
  return out;
}

/** Splits along `dim` into pieces of `size` (last may be smaller) or of the given section sizes. */
export function split(x: Tensor, sizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  checkOperands('split', x);
  const d = normDim(dim, x.ndim, 'split');
  const total = x.shape[d];
  let sizes: number[];
  if (typeof sizeOrSections === 'number') {
    if (!Number.isInteger(sizeOrSections) || sizeOrSections <= 0)
      throw new RangeError(`split: size must be a positive integer, got ${sizeOrSections}`);
    sizes = [];
    for (let s = 0; s < total; s += sizeOrSections) sizes.push(Math.min(sizeOrSections, total - s));
    if (total === 0) sizes.push(0);
  } else {
    sizes = sizeOrSections.slice();
    const sum = sizes.reduce((a, b) => a + b, 0);
    if (sum !== total)
      throw new RangeError(
        `split: sections [${sizes.join(', ')}] sum to ${sum}, but dim ${dim} of ${fmtShape(x.shape)} has ${total}`,
      );
  }
  const out: Tensor[] = [];
  let at = 0;
  for (const s of sizes) {
    out.push(narrow(x, d, at, s));
    at += s;
  }
  return out;
}

/** Splits into `chunks` nearly equal pieces along `dim` (like torch.chunk). */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  checkOperands('chunk', x);
  if (!Number.isInteger(chunks) || chunks <= 0)
    throw new RangeError(`chunk: chunks must be a positive integer, got ${chunks}`);
  const d = normDim(dim, x.ndim, 'chunk');
  return split(x, Math.max(1, Math.ceil(x.shape[d] / chunks)), d);
}

/** Zeros of `shape` with `g` written into the slice (dim, start, step). */
export function sliceBackward(
  g: Tensor,
  shape: readonly number[],
  dim: number,
  start: number,
  step: number,
): Tensor {
  const out = empty_(shape, g.dtype, g.device);
  const cs = out.strides.slice();
  const off = start * cs[dim];
  cs[dim] *= step;
  runKernel<AssignKernel>(
    'assign',
    out.device,
    out,
    g.shape[dim] > 0 ? off : 0,
    cs,
    g,
    g.strides,
    g.shape,
    false,
  );
  return out;
}

defineGrad('slice', (c, [g]) => [
  sliceBackward(g!, c.inputs[0].shape, c.attrs.dim, c.attrs.start, c.attrs.step),
]);
