/**
 * gradcheck(fn, inputs, {eps, atol, rtol}): compares autograd gradients with central finite
 * differences, in float64. Float inputs are copied to float64 leaves (those with requiresGrad, or
 * every float input when none has it); int inputs pass through. The outputs are projected onto
 * fixed random weights (seeded) so one backward checks the whole Jacobian-vector product.
 * Throws with input index, element, analytic and numeric values and the max error; returns stats.
 */
import { Tensor } from '../tensor.js';
import { isFloat } from '../dtype.js';
import { tidy } from '../memory.js';
import { noGrad, enableGrad } from '../autograd/grad-mode.js';
import { Generator } from '../random.js';
import { cloneContiguous } from '../autograd/tape-helpers.js';
import { fmtShape } from '../shape.js';

export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance (default 1e-4). */
  rtol?: number;
}

export interface GradcheckResult {
  /** Largest |analytic - numeric| over all checked elements. */
  maxAbsError: number;
  /** Elements checked. */
  checked: number;
}

type Fn = (...inputs: Tensor[]) => Tensor | Tensor[];

function projection(
  fn: Fn,
  xs: Tensor[],
  weights: Float64Array[] | null,
): { value: number; weights: Float64Array[] } {
  const out = fn(...xs);
  const outs = Array.isArray(out) ? out : [out];
  const g = new Generator(1234);
  const ws = weights ?? outs.map((o) => Float64Array.from({ length: o.numel }, () => g.random() * 2 - 1));
  let value = 0;
  outs.forEach((o, k) => {
    const d = o.dataSync();
    for (let i = 0; i < d.length; i++) value += d[i] * ws[k][i];
  });
  return { value, weights: ws };
}

/** Checks fn's gradients against central differences; throws on mismatch. */
export function gradcheck(fn: Fn, inputs: Tensor[], opts: GradcheckOptions = {}): GradcheckResult {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-4;
  const anyMarked = inputs.some((t) => t.requiresGrad);
  const check = inputs.map((t) => isFloat(t.dtype) && (anyMarked ? t.requiresGrad : true));
  return tidy(() => {
    const xs = inputs.map((t, i) => {
      if (!check[i]) return t;
      const c = cloneContiguous(t, 'float64');
      c.requiresGrad = true;
      return c;
    });
    // analytic: d(sum_k w_k . out_k)/dx
    const outsA = enableGrad(() => fn(...xs));
    const outs = Array.isArray(outsA) ? outsA : [outsA];
    const { weights } = noGrad(() => projection(() => outs, [], null));
    let loss: Tensor | null = null;
    enableGrad(() => {
      for (let k = 0; k < outs.length; k++) {
        if (!outs[k].requiresGrad) continue;
        const wt = cloneContiguous(outs[k], outs[k].dtype);
        wt.rawView().set(weights[k]);
        const term = outs[k].mul(wt).sum();
        loss = loss === null ? term : loss.add(term);
      }
    });
    if (loss === null) throw new Error('gradcheck: no output depends on an input that requires grad');
    (loss as Tensor).backward();
    let maxAbsError = 0;
    let checked = 0;
    noGrad(() => {
      xs.forEach((x, i) => {
        if (!check[i]) return;
        const analytic = x.grad ? x.grad.dataSync() : new Float64Array(x.numel);
        const v = x.rawView();
        for (let j = 0; j < v.length; j++) {
          const orig = v[j];
          v[j] = orig + eps;
          const fp = tidy(() => projection(fn, xs, weights).value);
          v[j] = orig - eps;
          const fm = tidy(() => projection(fn, xs, weights).value);
          v[j] = orig;
          const numeric = (fp - fm) / (2 * eps);
          const err = Math.abs(numeric - analytic[j]);
          checked++;
          if (err > maxAbsError || Number.isNaN(err)) maxAbsError = err;
          if (!(err <= atol + rtol * Math.abs(numeric))) {
            throw new Error(
              `gradcheck: input ${i} ${fmtShape(x.shape)} element ${j}: analytic ${analytic[j]} vs numeric ${numeric} ` +
                `(abs error ${err.toExponential(3)}, atol ${atol}, rtol ${rtol})`,
            );
          }
        }
      });
    });
    return { maxAbsError, checked };
  });
}
