/**
 * `linear(x, weight, bias?)`: y = x W^T + b with W in PyTorch's [out, in] layout, composed from
 * core ops (matmul with a transposed view, so no copy); intermediates are disposed at once.
 */
import type { Tensor } from '../core.js';
import { checkFloat, fmt } from './util.js';

/**
 * Affine map over the last dim.
 * @param x - [..., in]
 * @param weight - [out, in]
 * @param bias - [out] or null
 * @returns [..., out]
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  checkFloat('linear', 'x', x);
  checkFloat('linear', 'weight', weight);
  const inF = x.shape[x.shape.length - 1];
  if (weight.shape.length !== 2 || weight.shape[1] !== inF) {
    throw new RangeError(
      `linear: weight must be [out, ${inF}] for x ${fmt(x.shape)}, got ${fmt(weight.shape)}`,
    );
  }
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== weight.shape[0])) {
    throw new RangeError(`linear: bias must be [${weight.shape[0]}], got ${fmt(bias.shape)}`);
  }
  const wt = weight.transpose(0, 1); // [in, out] view
  const y = x.matmul(wt);
  wt.dispose();
  if (!bias) return y;
  const out = y.add(bias);
  y.dispose();
  return out;
}
