/**
 * Selection and sampling: topk (values differentiable through gather, indices int32) and
 * multinomial (draws category indices from rows of non-negative weights with the seedable
 * generator; not differentiable). Shapes: x [..., n] -> [..., k].
 */
import { Tensor } from '../tensor.js';
import { fmtShape, normDim } from '../shape.js';
import { defaultGenerator, type Generator } from '../random.js';
import { runKernel } from '../device.js';
import type { MultinomialKernel, TopkKernel } from '../kernels/select-kernels.js';
import { checkOperands, empty_ } from './helpers.js';
import { gather } from './index-ops.js';
import { contiguous } from './shape-ops.js';

/**
 * The k largest (or smallest) entries along `dim` (default -1), sorted, with their int32 indices.
 * Ties keep the lower index first. `values` carries gradients (through gather).
 */
export function topk(
  x: Tensor,
  k: number,
  dim = -1,
  opts: { largest?: boolean } = {},
): { values: Tensor; indices: Tensor } {
  checkOperands('topk', x);
  const d = normDim(dim, x.ndim, 'topk');
  const n = x.ndim === 0 ? 1 : x.shape[d];
  if (!Number.isInteger(k) || k < 0 || k > n)
    throw new RangeError(
      `topk: k ${k} is out of range for dim ${dim} of size ${n} (shape ${fmtShape(x.shape)})`,
    );
  const largest = opts.largest ?? true;
  const shape = x.shape.slice();
  if (x.ndim > 0) shape[d] = k;
  const indices = empty_(shape, 'int32', x.device, false);
  runKernel<TopkKernel>('topk', x.device, indices, x, d, k, largest);
  const values = x.ndim === 0 ? contiguous(x) : gather(x, d, indices);
  return { values, indices };
}

/**
 * Draws `numSamples` category indices per row of non-negative `weights` ([n] or [rows, n]),
 * with replacement. Returns int32 [numSamples] or [rows, numSamples].
 */
export function multinomial(
  weights: Tensor,
  numSamples: number,
  opts: { generator?: Generator } = {},
): Tensor {
  checkOperands('multinomial', weights);
  if (weights.ndim !== 1 && weights.ndim !== 2) {
    throw new RangeError(`multinomial: weights must be [n] or [rows, n], got ${fmtShape(weights.shape)}`);
  }
  if (!Number.isInteger(numSamples) || numSamples < 1)
    throw new RangeError(`multinomial: numSamples must be a positive integer, got ${numSamples}`);
  const g = opts.generator ?? defaultGenerator;
  const rows = weights.ndim === 2 ? weights.shape[0] : 1;
  const n = weights.shape[weights.ndim - 1];
  const out = empty_(weights.ndim === 2 ? [rows, numSamples] : [numSamples], 'int32', weights.device, false);
  try {
    runKernel<MultinomialKernel>('multinomial', weights.device, out, weights, rows, n, numSamples, g);
  } catch (e) {
    out.dispose();
    throw e;
  }
  return out;
}
