/**
 * Reductions over dims (all dims when `dim` is omitted), with `keepDim`:
 * sum mean max min argmax argmin logsumexp variance(var) std prod, and `sumToShape` (the
 * reduction backward rules use to undo broadcasting).
 * Shapes: x [...S] -> S without the reduced dims (or with size 1 there when keepDim).
 */
import type { DType } from '../dtype.js';
import { Tensor } from '../tensor.js';
import { fmtShape, normDims, sameShape } from '../shape.js';
import type { ReduceOp } from '../kernels/reduce.js';
import { runKernel } from '../device.js';
import type { ReduceKernel } from '../backends/cpu-kernels.js';
import type { ProdBackwardKernel } from '../kernels/layout-kernels.js';
import { record } from '../autograd/tape.js';
import { defineGrad } from '../autograd/grad-table.js';
import { checkOperands, empty_ } from './helpers.js';
import { mul, div, sub, binaryRaw } from './binary.js';
import { exp } from './unary.js';
import { expand, reshape } from './shape-ops.js';

/** A dim, a list of dims, or undefined for all dims. */
export type Dims = number | readonly number[] | undefined;

function outShapeOf(shape: readonly number[], dims: readonly number[], keepDim: boolean): number[] {
  const out: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (!dims.includes(d)) out.push(shape[d]);
    else if (keepDim) out.push(1);
  }
  return out;
}

/** Runs a reduction kernel without recording. */
export function reduceRaw(
  op: ReduceOp,
  x: Tensor,
  dims: readonly number[],
  keepDim: boolean,
  correction = 1,
): Tensor {
  let dtype: DType = x.dtype;
  if (op === 'argmax' || op === 'argmin') dtype = 'int32';
  else if (x.dtype === 'int32' && (op === 'mean' || op === 'logsumexp' || op === 'var')) dtype = 'float32';
  const out = empty_(outShapeOf(x.shape, dims, keepDim), dtype, x.device, false);
  const a = { buffer: x.storage.buffer, offset: x.offset, strides: x.strides };
  runKernel<ReduceKernel>('reduce', x.device, op, out.storage.buffer, a, x.shape, dims, correction);
  return out;
}

function reduce(
  op: ReduceOp,
  x: Tensor,
  dim: Dims,
  keepDim: boolean,
  attrs: Record<string, any> = {},
): Tensor {
  checkOperands(op, x);
  const dims = normDims(dim, x.ndim, op);
  const out = reduceRaw(op, x, dims, keepDim, attrs.correction ?? 1);
  if (op !== 'argmax' && op !== 'argmin') record(op, [x], [out], { dims, keepDim, ...attrs });
  return out;
}

/** Sum over `dim` (all dims by default). */
export function sum(x: Tensor, dim?: Dims, keepDim = false): Tensor {
  return reduce('sum', x, dim, keepDim);
}
/** Mean over `dim` (all dims by default). */
export function mean(x: Tensor, dim?: Dims, keepDim = false): Tensor {
  return reduce('mean', x, dim, keepDim);
}
/** Product over `dim` (all dims by default). */
export function prod(x: Tensor, dim?: Dims, keepDim = false): Tensor {
  return reduce('prod', x, dim, keepDim);
}
/** Maximum values over `dim` (gradient split evenly between ties). */
export function max(x: Tensor, dim?: Dims, keepDim = false): Tensor {
  return reduce('max', x, dim, keepDim);
}
/** Minimum values over `dim` (gradient split evenly between ties). */
export function min(x: Tensor, dim?: Dims, keepDim = false): Tensor {
  return reduce('min', x, dim, keepDim);
}
/** Index (int32) of the first maximum along `dim` (over the flattened tensor when omitted). */
export function argmax(x: Tensor, dim?: number, keepDim = false): Tensor {
  if (dim === undefined) {
    const flat = reshape(x, [-1]);
    const out = reduce('argmax', flat, 0, false);
    flat.dispose();
    return out;
  }
  return reduce('argmax', x, dim, keepDim);
}
/** Index (int32) of the first minimum along `dim` (over the flattened tensor when omitted). */
export function argmin(x: Tensor, dim?: number, keepDim = false): Tensor {
  if (dim === undefined) {
    const flat = reshape(x, [-1]);
    const out = reduce('argmin', flat, 0, false);
    flat.dispose();
    return out;
  }
  return reduce('argmin', x, dim, keepDim);
}
/** log(sum(exp(x))) over `dim`, computed stably. */
export function logsumexp(x: Tensor, dim?: Dims, keepDim = false): Tensor {
  return reduce('logsumexp', x, dim, keepDim);
}

/** Options of `variance`/`std`. */
export interface VarOptions {
  /** Subtracted from the count in the denominator (1 = unbiased, the default; 0 = population). */
  correction?: number;
  keepDim?: boolean;
}
/** Variance over `dim` (method name: `x.var()`). */
export function variance(x: Tensor, dim?: Dims, opts: VarOptions = {}): Tensor {
  return reduce('var', x, dim, opts.keepDim ?? false, { correction: opts.correction ?? 1 });
}

/**
 * Sums `g` down to `shape` (undoes NumPy broadcasting: leading dims and dims where `shape` has 1).
 * Returns `g` itself when the shapes already match.
 */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  if (lead < 0) throw new RangeError(`sumToShape: cannot reduce ${fmtShape(g.shape)} to ${fmtShape(shape)}`);
  const dims: number[] = [];
  for (let d = 0; d < g.ndim; d++) {
    if (d < lead) dims.push(d);
    else if (shape[d - lead] === 1 && g.shape[d] !== 1) dims.push(d);
    else if (shape[d - lead] !== g.shape[d])
      throw new RangeError(`sumToShape: cannot reduce ${fmtShape(g.shape)} to ${fmtShape(shape)}`);
  }
  const s = sum(g, dims, true); // recorded, so sumToShape is differentiable outside backward
  const out = reshape(s, shape);
  s.dispose(); // out is a view: the storage lives on
  return out;
}

// ---- backward rules ------------------------------------------------------------------------

/** g reshaped with the reduced dims kept (size 1), ready to broadcast against the input. */
function keepShaped(
  g: Tensor,
  inShape: readonly number[],
  dims: readonly number[],
  keepDim: boolean,
): Tensor {
  return keepDim ? g : reshape(g, outShapeOf(inShape, dims, true));
}
function count(shape: readonly number[], dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= shape[d];
  return n;
}

defineGrad('sum', (c, [g]) => {
  const x = c.inputs[0];
  return [expand(keepShaped(g!, x.shape, c.attrs.dims, c.attrs.keepDim), x.shape)];
});
defineGrad('mean', (c, [g]) => {
  const x = c.inputs[0];
  const n = count(x.shape, c.attrs.dims);
  return [expand(div(keepShaped(g!, x.shape, c.attrs.dims, c.attrs.keepDim), n), x.shape)];
});
defineGrad('prod', (c, [g]) => {
  // d/dx_i prod = prod_{j != i} x_j, computed without dividing (zeros allowed)
  const x = c.inputs[0];
  const { dims } = c.attrs;
  const out = empty_(x.shape, x.dtype, x.device);
  const gk = keepShaped(g!, x.shape, dims, c.attrs.keepDim);
  const ge = expand(gk, x.shape);
  runKernel<ProdBackwardKernel>('prodBackward', x.device, out, x, ge, dims);
  return [out];
});
function maxMinRule(
  c: { inputs: readonly Tensor[]; outputs: readonly Tensor[]; attrs: Record<string, any> },
  g: Tensor,
): Tensor {
  const x = c.inputs[0];
  const { dims, keepDim } = c.attrs;
  const y = keepShaped(c.outputs[0], x.shape, dims, keepDim);
  const mask = binaryRaw('eq', x, y, x.dtype);
  const cnt = reduceRaw('sum', mask, dims, true);
  return mul(keepShaped(g, x.shape, dims, keepDim), div(mask, cnt));
}
defineGrad('max', (c, [g]) => [maxMinRule(c, g!)]);
defineGrad('min', (c, [g]) => [maxMinRule(c, g!)]);
defineGrad('logsumexp', (c, [g]) => {
  const x = c.inputs[0];
  const { dims, keepDim } = c.attrs;
  const y = keepShaped(c.outputs[0], x.shape, dims, keepDim);
  return [mul(keepShaped(g!, x.shape, dims, keepDim), exp(sub(x, y)))];
});
defineGrad('var', (c, [g]) => {
  const x = c.inputs[0];
  const { dims, keepDim, correction } = c.attrs;
  const n = count(x.shape, dims);
  const m = reduceRaw('mean', x, dims, true);
  return [mul(keepShaped(g!, x.shape, dims, keepDim), mul(sub(x, m), 2 / Math.max(0, n - correction)))];
});
