/**
 * Causal depthwise 1-D convolution, channels last, as a fused op with its own backward
 * (see kernels/conv1d.ts): y[b, t, c] = bias[c] + sum_j w[c, j] x[b, t - K + 1 + j, c].
 */
import type { Tensor } from '../core.js';
import { causalConv1dBackward, causalConv1dForward } from './kernels/native.js';
import {
  alloc,
  castArray,
  checkFloat,
  checkSameDtype,
  checkVector,
  floats,
  floatsAs,
  fmt,
  lazyOp,
  wrap,
} from './util.js';

const apply = lazyOp({
  name: 'nn.causalConv1d',
  forward(_ctx, [x, w, bias]) {
    const [b, t, c] = x.shape;
    const k = w.shape[1];
    const y = alloc(x, x.numel);
    causalConv1dForward(floats(x), floats(w), bias ? floats(bias) : null, b, t, c, k, y);
    return wrap(y, x.shape);
  },
  backward(ctx, [g]) {
    if (g === null) return ctx.inputs.map(() => null);
    const [x, w, bias] = ctx.inputs;
    const [b, t, c] = x.shape;
    const k = w.shape[1];
    const dx = alloc(x, x.numel);
    const dw = new Float64Array(c * k);
    const db = bias ? new Float64Array(c) : null;
    causalConv1dBackward(floatsAs(g, x), floats(x), floats(w), b, t, c, k, dx, dw, db);
    const out: (Tensor | null)[] = [wrap(dx, x.shape), wrap(castArray(dw, x), w.shape)];
    if (bias) out.push(wrap(castArray(db!, x), [c]));
    return out;
  },
});

/**
 * Causal depthwise convolution over time: each channel has its own K taps and output t only
 * sees inputs at times <= t (zero history before the start).
 * @param x - [B, T, C] float32/float64
 * @param weight - [C, K]; tap K-1 multiplies the current step
 * @param bias - [C] or null
 * @returns [B, T, C]
 */
export function causalConv1d(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  const op = 'causalConv1d';
  checkFloat(op, 'x', x);
  checkFloat(op, 'weight', weight);
  if (x.shape.length !== 3) throw new RangeError(`${op}: x must be 3-D [B, T, C], got ${fmt(x.shape)}`);
  const c = x.shape[2];
  if (weight.shape.length !== 2 || weight.shape[0] !== c || weight.shape[1] < 1) {
    throw new RangeError(
      `${op}: weight must be [C, K] with C = ${c} (from x ${fmt(x.shape)}) and K >= 1, got ${fmt(weight.shape)}`,
    );
  }
  checkSameDtype(op, ['x', x], ['weight', weight]);
  if (bias) {
    checkFloat(op, 'bias', bias);
    checkSameDtype(op, ['x', x], ['bias', bias]);
    checkVector(op, 'bias', bias, c, 'the channels of x');
  }
  return apply(bias ? [x, weight, bias] : [x, weight], {});
}
