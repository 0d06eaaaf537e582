/**
 * Fused RMSNorm and LayerNorm over the last dim, with their own backward (one pass per row;
 * see kernels/norm.ts for the formulas). Shapes: x [..., D] -> y [..., D]; weight, bias [D].
 * Per-row statistics are kept in float64 whatever the input dtype.
 */
import type { Tensor } from '../core.js';
import { layerNormBackward, layerNormForward, rmsNormBackward, rmsNormForward } from './kernels/native.js';
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

interface NormAttrs {
  eps: number;
  hasWeight: boolean;
  hasBias: boolean;
}

function dims(x: Tensor): { rows: number; d: number } {
  const d = x.shape[x.shape.length - 1];
  return { rows: d === 0 ? 0 : x.numel / d, d };
}

const rms = lazyOp({
  name: 'nn.rmsNorm',
  forward(ctx, inputs, attrs) {
    const [x, w] = inputs;
    const { eps } = attrs as unknown as NormAttrs;
    const { rows, d } = dims(x);
    const xv = floats(x);
    const y = alloc(x, xv.length);
    const rstd = new Float64Array(rows);
    rmsNormForward(xv, w ? floats(w) : null, rows, d, eps, y, rstd);
    ctx.save(wrap(rstd, [rows]));
    return wrap(y, x.shape);
  },
  backward(ctx, [g]) {
    const [x, w] = ctx.inputs;
    if (g === null) return ctx.inputs.map(() => null);
    const { rows, d } = dims(x);
    const dx = alloc(x, x.numel);
    const dw = w ? new Float64Array(d) : null;
    rmsNormBackward(
      floatsAs(g, x),
      floats(x),
      w ? floats(w) : null,
      floats(ctx.saved[0]) as Float64Array,
      rows,
      d,
      dx,
      dw,
    );
    const out: (Tensor | null)[] = [wrap(dx, x.shape)];
    if (w) out.push(wrap(castArray(dw!, w), [d]));
    return out;
  },
});

const ln = lazyOp({
  name: 'nn.layerNorm',
  forward(ctx, inputs, attrs) {
    const { eps, hasWeight, hasBias } = attrs as unknown as NormAttrs;
    const x = inputs[0];
    const w = hasWeight ? inputs[1] : null;
    const b = hasBias ? inputs[hasWeight ? 2 : 1] : null;
    const { rows, d } = dims(x);
    const xv = floats(x);
    const y = alloc(x, xv.length);
    const mean = new Float64Array(rows);
    const rstd = new Float64Array(rows);
    layerNormForward(xv, w ? floats(w) : null, b ? floats(b) : null, rows, d, eps, y, mean, rstd);
    ctx.save(wrap(mean, [rows]), wrap(rstd, [rows]));
    return wrap(y, x.shape);
  },
  backward(ctx, [g]) {
    if (g === null) return ctx.inputs.map(() => null);
    const { hasWeight, hasBias } = ctx.attrs as NormAttrs;
    const x = ctx.inputs[0];
    const w = hasWeight ? ctx.inputs[1] : null;
    const { rows, d } = dims(x);
    const dx = alloc(x, x.numel);
    const dw = hasWeight ? new Float64Array(d) : null;
    const db = hasBias ? new Float64Array(d) : null;
    const [mean, rstd] = ctx.saved.map((t) => floats(t) as Float64Array);
    layerNormBackward(floatsAs(g, x), floats(x), w ? floats(w) : null, mean, rstd, rows, d, dx, dw, db);
    const out: (Tensor | null)[] = [wrap(dx, x.shape)];
    if (dw) out.push(wrap(castArray(dw, x), [d]));
    if (db) out.push(wrap(castArray(db, x), [d]));
    return out;
  },
});

function check(op: string, x: Tensor, params: [string, Tensor | null | undefined][], eps: number): void {
  checkFloat(op, 'x', x);
  if (x.shape.length === 0) throw new RangeError(`${op}: x must have at least 1 dim [..., D], got a scalar`);
  const d = x.shape[x.shape.length - 1];
  for (const [what, p] of params) {
    if (p === null || p === undefined) continue;
    checkFloat(op, what, p);
    checkSameDtype(op, ['x', x], [what, p]);
    checkVector(op, what, p, d, `the last dim of x ${fmt(x.shape)}`);
  }
  if (!(eps >= 0)) throw new RangeError(`${op}: eps must be >= 0, got ${eps}`);
}

/**
 * Root-mean-square normalisation over the last dim: `x / sqrt(mean(x^2) + eps) * weight`.
 * @param x - [..., D] float32/float64
 * @param weight - [D] scale, or null for none
 * @param eps - added to the mean square (default 1e-6)
 * @returns [..., D], same dtype as x
 */
export function rmsNorm(x: Tensor, weight: Tensor | null = null, eps = 1e-6): Tensor {
  check('rmsNorm', x, [['weight', weight]], eps);
  return rms(weight ? [x, weight] : [x], { eps, hasWeight: !!weight, hasBias: false });
}

/**
 * Layer normalisation over the last dim: `(x - mean) / sqrt(var + eps) * weight + bias`
 * (biased variance, as PyTorch).
 * @param x - [..., D] float32/float64
 * @param weight - [D] scale, or null for none
 * @param bias - [D] shift, or null for none
 * @param eps - added to the variance (default 1e-5)
 * @returns [..., D], same dtype as x
 */
export function layerNorm(
  x: Tensor,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps = 1e-5,
): Tensor {
  check(
    'layerNorm',
    x,
    [
      ['weight', weight],
      ['bias', bias],
    ],
    eps,
  );
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return ln(inputs, { eps, hasWeight: !!weight, hasBias: !!bias });
}
