/**
 * Ops composed from differentiable primitives (their gradients come from the parts): std, norm.
 */
import type { Tensor } from '../tensor.js';
import { sqrt, abs } from './unary.js';
import { pow } from './binary.js';
import { sum, variance, max, type Dims, type VarOptions } from './reduce.js';

/** Standard deviation over `dim` (sqrt of `variance`, same options). */
export function std(x: Tensor, dim?: Dims, opts: VarOptions = {}): Tensor {
  const v = variance(x, dim, opts);
  const out = sqrt(v);
  v.dispose();
  return out;
}

/**
 * p-norm over `dim` (all elements by default): (sum |x|^p)^(1/p); p = Infinity gives max |x|.
 * The gradient at x = 0 is NaN for p = 2 (as in PyTorch's sqrt); keep inputs away from 0.
 */
export function norm(x: Tensor, p = 2, dim?: Dims, keepDim = false): Tensor {
  if (!(p > 0)) throw new RangeError(`norm: p must be positive, got ${p}`);
  const a = abs(x);
  if (p === Infinity) {
    const out = max(a, dim, keepDim);
    a.dispose();
    return out;
  }
  const ap = p === 1 ? a : pow(a, p);
  const s = sum(ap, dim, keepDim);
  const out = p === 1 ? s : pow(s, 1 / p);
  for (const t of [a, ap, s]) if (t !== out) t.dispose();
  return out;
}
