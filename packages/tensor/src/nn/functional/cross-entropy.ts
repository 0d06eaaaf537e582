/**
 * Fused, softmax-free cross-entropy: `crossEntropy(logits [N, C], targets int32 [N])`.
 * One pass computes logsumexp and the softmax (saved for backward); the backward is
 * `(softmax - onehot(target)) * g` per row, 0 on rows whose target is `ignoreIndex`.
 * Matches torch.nn.functional.cross_entropy (no label smoothing, no class weights).
 */
import type { Tensor } from '../core.js';
import { checkTargets } from './kernels/cross-entropy.js';
import { crossEntropyBackward, crossEntropyForward } from './kernels/native.js';
import { alloc, checkFloat, checkInt, floats, fmt, ints, lazyOp, wrap } from './util.js';

/** Options of `crossEntropy`. */
export interface CrossEntropyOptions {
  /** Target value whose rows are skipped (loss 0, gradient 0, not counted). Default -100. */
  ignoreIndex?: number;
  /** 'mean' over counted rows (default; NaN when all are ignored), 'sum', or 'none' ([N] losses). */
  reduction?: 'mean' | 'sum' | 'none';
}

const apply = lazyOp({
  name: 'nn.crossEntropy',
  forward(ctx, [logits, targets], attrs) {
    const [n, c] = logits.shape;
    const { ignoreIndex, reduction } = attrs as Required<CrossEntropyOptions>;
    const t = ints(targets);
    const count = checkTargets(t, n, c, ignoreIndex);
    const probs = alloc(logits, n * c);
    const losses = new Float64Array(n);
    crossEntropyForward(floats(logits), t, n, c, ignoreIndex, losses, probs);
    ctx.save(wrap(probs, [n, c]), targets);
    if (reduction === 'none') {
      const out = alloc(logits, n);
      out.set(losses);
      return wrap(out, [n]);
    }
    let sum = 0;
    for (let i = 0; i < n; i++) sum += losses[i];
    const out = alloc(logits, 1);
    out[0] = reduction === 'sum' ? sum : sum / count;
    return wrap(out, []);
  },
  backward(ctx, [g]) {
    if (g === null) return [null, null];
    const [probsT, targets] = ctx.saved;
    const [n, c] = probsT.shape;
    const { ignoreIndex, reduction } = ctx.attrs as Required<CrossEntropyOptions>;
    const t = ints(targets);
    const gv = floats(g);
    let scale: Float64Array;
    if (reduction === 'none') scale = Float64Array.from(gv);
    else {
      let count = 0;
      for (let i = 0; i < n; i++) if (t[i] !== ignoreIndex) count++;
      scale = new Float64Array(n).fill(reduction === 'sum' ? gv[0] : gv[0] / count);
    }
    const grad = alloc(probsT, n * c);
    crossEntropyBackward(floats(probsT), t, n, c, ignoreIndex, scale, grad);
    return [wrap(grad, [n, c]), null];
  },
});

/**
 * Cross-entropy between unnormalised logits and class indices.
 * @param logits - [N, C] (or [..., C], flattened to rows) float32/float64
 * @param targets - int32 [N] (or [...] matching the leading dims of logits), each in [0, C) or
 *   equal to `ignoreIndex`
 * @param options - `ignoreIndex` (default -100), `reduction` (default 'mean')
 * @returns a scalar (mean or sum), or per-row losses shaped like `targets` for reduction 'none'
 * @example
 * const loss = crossEntropy(logits, tensor([2, 0], { dtype: 'int32' }));
 */
export function crossEntropy(logits: Tensor, targets: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  checkFloat(op, 'logits', logits);
  checkInt(op, 'targets', targets);
  const lead = logits.shape.slice(0, -1);
  if (logits.shape.length < 2) {
    throw new RangeError(`${op}: logits must be [N, C] or [..., C], got ${fmt(logits.shape)}`);
  }
  if (targets.shape.length !== lead.length || targets.shape.some((d, i) => d !== lead[i])) {
    throw new RangeError(
      `${op}: targets must have shape ${fmt(lead)} to match logits ${fmt(logits.shape)}, got ${fmt(targets.shape)}`,
    );
  }
  const ignoreIndex = options.ignoreIndex ?? -100;
  const reduction = options.reduction ?? 'mean';
  if (!Number.isInteger(ignoreIndex))
    throw new TypeError(`${op}: ignoreIndex must be an integer, got ${ignoreIndex}`);
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new TypeError(`${op}: reduction must be 'mean', 'sum' or 'none', got ${JSON.stringify(reduction)}`);
  }
  if (logits.shape.length === 2) return apply([logits, targets], { ignoreIndex, reduction });
  const c = logits.shape[logits.shape.length - 1];
  const n = targets.numel;
  // Flatten to rows; the graph keeps what backward needs, so the temporary views can go now.
  const rows = logits.reshape([n, c]);
  const flat = targets.reshape([n]);
  const out = apply([rows, flat], { ignoreIndex, reduction });
  rows.dispose();
  flat.dispose();
  if (reduction !== 'none') return out;
  const shaped = out.reshape(lead);
  out.dispose();
  return shaped;
}
