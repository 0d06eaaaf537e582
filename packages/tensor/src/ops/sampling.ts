/**
 * Selection and sampling: topk (values differentiable through gather, indices int32) and
 * multinomial (draws category indices from rows of non-negative weights with the seedable
 * generator; not differentiable). Shapes: x [..., n] -> [..., k].
 */
import { Tensor } from '../tensor.js';
import { fmtShape, normDim } from '../shape.js';
import { defaultGenerator, type Generator } from '../random.js';
import { dataSync } from '../tensor-data.js';
import { aroundDim } from '../kernels/strided-write.js';
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
  const xs = dataSync(x);
  const { outer, inner } = aroundDim(x.shape, d);
  const shape = x.shape.slice();
  if (x.ndim > 0) shape[d] = k;
  const indices = empty_(shape, 'int32', x.device, false);
  const id = indices.storage.data;
  const order = new Array<number>(n);
  for (let p = 0; p < outer; p++) {
    for (let q = 0; q < inner; q++) {
      const base = p * n * inner + q;
      for (let i = 0; i < n; i++) order[i] = i;
      order.sort((a, b) => {
        const va = xs[base + a * inner];
        const vb = xs[base + b * inner];
        if (va !== vb) {
          if (va !== va) return -1; // NaN counts as largest, like PyTorch
          if (vb !== vb) return 1;
          return largest ? vb - va : va - vb;
        }
        return a - b;
      });
      for (let j = 0; j < k; j++) id[p * k * inner + j * inner + q] = order[j];
    }
  }
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
  const w = dataSync(weights);
  const out = empty_(weights.ndim === 2 ? [rows, numSamples] : [numSamples], 'int32', weights.device, false);
  const o = out.storage.data;
  const cdf = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    let total = 0;
    for (let i = 0; i < n; i++) {
      const v = w[r * n + i];
      if (!(v >= 0) || v === Infinity) {
        out.dispose();
        throw new RangeError(
          `multinomial: weights must be finite and non-negative, row ${r} has ${v} at ${i}`,
        );
      }
      total += v;
      cdf[i] = total;
    }
    if (!(total > 0)) {
      out.dispose();
      throw new RangeError(`multinomial: row ${r} of the weights sums to 0`);
    }
    for (let s = 0; s < numSamples; s++) {
      const u = g.random() * total;
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cdf[mid] > u) hi = mid;
        else lo = mid + 1;
      }
      o[r * numSamples + s] = lo;
    }
  }
  return out;
}
