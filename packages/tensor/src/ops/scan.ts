/**
 * Triangles and scans: tril/triu (last two dims, diagonal offset k), cumsum/cumprod along a dim.
 * Backward: the same triangle mask; reverse cumulative sum; for cumprod an exact O(n^2) rule per
 * row that stays correct when inputs contain zeros.
 */
import { Tensor } from '../tensor.js';
import { fmtShape, normDim } from '../shape.js';
import { record } from '../autograd/tape.js';
import { defineGrad } from '../autograd/grad-table.js';
import { runKernel } from '../device.js';
import type { CumprodBackwardKernel, ScanKernel, TriangleKernel } from '../kernels/scan-kernels.js';
import { checkOperands } from './helpers.js';
import { contiguousRaw } from './shape-ops.js';

function triangle(name: 'tril' | 'triu', x: Tensor, k: number): Tensor {
  checkOperands(name, x);
  if (x.ndim < 2) throw new RangeError(`${name}: needs at least 2 dims, got ${fmtShape(x.shape)}`);
  if (!Number.isInteger(k)) throw new RangeError(`${name}: diagonal must be an integer, got ${k}`);
  const out = contiguousRaw(x);
  runKernel<TriangleKernel>('triangle', x.device, out, name === 'tril', k);
  record(name, [x], [out], { k });
  return out;
}

/** Lower triangle of the last two dims (j - i <= k), zeros elsewhere. */
export function tril(x: Tensor, k = 0): Tensor {
  return triangle('tril', x, k);
}
/** Upper triangle of the last two dims (j - i >= k), zeros elsewhere. */
export function triu(x: Tensor, k = 0): Tensor {
  return triangle('triu', x, k);
}

function scan(x: Tensor, d: number, kind: 'sum' | 'prod' | 'revsum'): Tensor {
  const out = contiguousRaw(x);
  runKernel<ScanKernel>('scan', x.device, out, d, kind);
  return out;
}

/** Cumulative sum along `dim`. */
export function cumsum(x: Tensor, dim: number): Tensor {
  checkOperands('cumsum', x);
  const d = normDim(dim, x.ndim, 'cumsum');
  const out = scan(x, d, 'sum');
  record('cumsum', [x], [out], { dim: d });
  return out;
}

/** Cumulative product along `dim`. */
export function cumprod(x: Tensor, dim: number): Tensor {
  checkOperands('cumprod', x);
  const d = normDim(dim, x.ndim, 'cumprod');
  const out = scan(x, d, 'prod');
  record('cumprod', [x], [out], { dim: d });
  return out;
}

defineGrad('tril', (c, [g]) => [tril(g!, c.attrs.k)]);
defineGrad('triu', (c, [g]) => [triu(g!, c.attrs.k)]);
defineGrad('cumsum', (c, [g]) => [scan(g!, c.attrs.dim, 'revsum')]);
defineGrad('cumprod', (c, [g]) => {
  // dx_i = sum_{j >= i} g_j * prod_{k <= j, k != i} x_k
  const x = c.inputs[0];
  const xc = contiguousRaw(x);
  const gc = contiguousRaw(g!);
  const out = contiguousRaw(g!);
  runKernel<CumprodBackwardKernel>('cumprodBackward', x.device, out, xc, gc, c.attrs.dim);
  return [out];
});
