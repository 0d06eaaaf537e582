/** Global-norm gradient clipping (torch.nn.utils.clip_grad_norm_ semantics). */
import type { ParamLike } from './param.js';

/**
 * Scales every gradient in place so that the global ℓ2 norm is at most `maxNorm`.
 * @returns the total norm before clipping
 */
export function clipGradNorm(params: readonly ParamLike[], maxNorm: number): number {
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm))
    throw new RangeError(`clipGradNorm: maxNorm must be a positive finite number, got ${maxNorm}`);
  let ss = 0;
  for (const p of params) {
    const g = p.gradView;
    if (g) for (let i = 0; i < g.length; i++) ss += g[i]! * g[i]!;
  }
  const total = Math.sqrt(ss);
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1)
    for (const p of params) {
      const g = p.gradView;
      if (g) for (let i = 0; i < g.length; i++) g[i] = g[i]! * coef;
    }
  return total;
}
