/**
 * Ops composed from differentiable primitives (their gradients come from the parts): std, norm,
 * maskedFill, repeat, outer.
 */
import type { Tensor } from '../tensor.js';
import { sqrt, abs } from './unary.js';
import { mul, pow } from './binary.js';
import { where } from './where.js';
import { expand, reshape, unsqueeze } from './shape-ops.js';
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

/** x with `value` wherever `mask` is non-zero (mask broadcasts against x). */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  return where(mask, value, x);
}

/**
 * Tiles x: repeats[i] copies along dim i (repeats may have more dims than x, like torch.repeat).
 * Built from expand + reshape, so it is differentiable.
 */
export function repeat(x: Tensor, repeats: readonly number[]): Tensor {
  if (repeats.length < x.ndim) {
    throw new RangeError(`repeat: ${repeats.length} repeats for a tensor of rank ${x.ndim}`);
  }
  if (repeats.some((r) => !Number.isInteger(r) || r < 0))
    throw new RangeError(`repeat: repeats [${repeats.join(', ')}] must be non-negative integers`);
  const lead = repeats.length - x.ndim;
  const shape = [...new Array<number>(lead).fill(1), ...x.shape];
  // [.., 1, s_i, ..] -> expand [.., r_i, s_i, ..] -> reshape [.., r_i * s_i, ..]
  const inter: number[] = [];
  const expanded: number[] = [];
  shape.forEach((s, i) => {
    inter.push(1, s);
    expanded.push(repeats[i], s);
  });
  const a = reshape(x, inter);
  const b = expand(a, expanded);
  const out = reshape(
    b,
    shape.map((s, i) => s * repeats[i]),
  );
  for (const t of [a, b]) if (t !== out && t !== x) t.dispose();
  return out;
}

/** Outer product of two vectors: [n] x [m] -> [n, m]. */
export function outer(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 1 || b.ndim !== 1)
    throw new RangeError(
      `outer: expected two vectors, got shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`,
    );
  const ua = unsqueeze(a, 1);
  const ub = unsqueeze(b, 0);
  const out = mul(ua, ub);
  ua.dispose();
  ub.dispose();
  return out;
}
