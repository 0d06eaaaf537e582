/**
 * Embedding lookup as a fused op: gathers rows of a table by int32 ids; the backward
 * scatter-adds the upstream rows into a zero table (repeated ids accumulate). No gradient
 * flows to the ids.
 */
import type { Tensor } from '../core.js';
import { checkIds, embeddingBackward, embeddingForward } from './kernels/embedding.js';
import { alloc, checkFloat, checkInt, floats, fmt, ints, lazyOp, wrap } from './util.js';

const apply = lazyOp({
  name: 'nn.embedding',
  forward(_ctx, [weight, ids]) {
    const d = weight.shape[1];
    const idv = ints(ids);
    checkIds(idv, weight.shape[0]);
    const out = alloc(weight, idv.length * d);
    embeddingForward(floats(weight), idv, d, out);
    return wrap(out, [...ids.shape, d]);
  },
  backward(ctx, [g]) {
    const [weight, ids] = ctx.inputs;
    if (g === null) return [null, null];
    const dW = alloc(weight, weight.numel);
    embeddingBackward(floats(g), ints(ids), weight.shape[1], dW);
    return [wrap(dW, weight.shape), null];
  },
});

/**
 * Looks up rows of `weight` by index.
 * @param ids - int32 of any shape [...], each in [0, V)
 * @param weight - [V, D] float32/float64 table
 * @returns [..., D]
 */
export function embedding(ids: Tensor, weight: Tensor): Tensor {
  checkInt('embedding', 'ids', ids);
  checkFloat('embedding', 'weight', weight);
  if (weight.shape.length !== 2) {
    throw new RangeError(`embedding: weight must be 2-D [V, D], got ${fmt(weight.shape)}`);
  }
  return apply([weight, ids], {});
}
