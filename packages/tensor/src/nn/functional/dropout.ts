/**
 * Inverted dropout as a fused op: y = x * mask, mask in {0, 1/(1-p)}. The mask comes from
 * `seed` when given (same seed, same mask; see kernels/dropout-mask.ts) or else from a seed
 * drawn from the core's global generator (so `manualSeed(n)` makes runs repeatable).
 * Backward multiplies the upstream gradient by the same mask. Both run natively
 * (native/src/cpu/nn_dropout.cc), bit-identical to the TypeScript mask reference.
 */
import { randint, type Tensor } from '../core.js';
import { dropoutBackward, dropoutForward } from './kernels/native.js';
import { alloc, checkFloat, floats, floatsAs, lazyOp, wrap } from './util.js';

/** Options of `dropout`. */
export interface DropoutOptions {
  /** Drop probability in [0, 1) (default 0.5). */
  p?: number;
  /** When false, return x unchanged (default true). */
  training?: boolean;
  /** 32-bit seed of the mask; default: drawn from the global generator. */
  seed?: number;
}

const apply = lazyOp({
  name: 'nn.dropout',
  forward(ctx, [x], attrs) {
    const mask = alloc(x, x.numel);
    const y = alloc(x, x.numel);
    dropoutForward(floats(x), attrs.seed as number, attrs.p as number, mask, y);
    ctx.save(wrap(mask, x.shape));
    return wrap(y, x.shape);
  },
  backward(ctx, [g]) {
    if (g === null) return [null];
    const mask = ctx.saved[0];
    const dx = alloc(mask, mask.numel);
    dropoutBackward(floatsAs(g, mask), floats(mask), dx);
    return [wrap(dx, mask.shape)];
  },
});

/**
 * Zeroes each element with probability p and scales the rest by 1/(1-p) (training only).
 * @param x - any shape, float32/float64
 * @returns same shape; `x` itself when not training or p = 0
 */
export function dropout(x: Tensor, options: DropoutOptions = {}): Tensor {
  checkFloat('dropout', 'x', x);
  const p = options.p ?? 0.5;
  if (!(p >= 0 && p < 1)) throw new RangeError(`dropout: p must be in [0, 1), got ${p}`);
  if (options.training === false || p === 0) return x;
  let seed = options.seed;
  if (seed === undefined) {
    const s = randint(0, 2 ** 31 - 1, [1]);
    seed = s.item();
    s.dispose();
  } else if (!Number.isSafeInteger(seed)) {
    throw new TypeError(`dropout: seed must be an integer, got ${seed}`);
  }
  return apply([x], { p, seed });
}
