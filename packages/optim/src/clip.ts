/**
 * Global-norm gradient clipping (torch.nn.utils.clip_grad_norm_ semantics).
 *
 * Plain ParamLike arrays: the norm is computed on the host and returned as a number (as before).
 * @nl/tensor Tensors: one `optim.clipGradNorm` kernel call on the parameters' device; the norm
 * comes back as a 0-d float64 tensor on that device, as torch returns a tensor — nothing is read
 * to the host during the step. Reading it (`.item()`) is one scalar transfer; the caller owns it
 * (dispose it, or clip inside `tidy`).
 */
import { zeros, type Tensor } from '@nl/tensor';
import { runKernel } from '@nl/tensor/internal';
import { groupDevice, isTensorParam } from './device.js';
import { OPTIM_KERNELS, type ClipGradNormKernel } from './kernels/types.js';
import type { FloatArray, ParamLike } from './param.js';
import './kernels/clip.js';

/**
 * Scales every gradient in place so that the global ℓ2 norm is at most `maxNorm`.
 * @returns the total norm before clipping: a number for plain arrays; for Tensors a 0-d float64
 *   tensor on their device (no host read; `.item()` on it is one scalar download); an empty
 *   list has no device and returns the number 0
 * @throws when the parameters are on different devices (naming both)
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): Tensor;
export function clipGradNorm(params: readonly ParamLike[], maxNorm: number): number;
export function clipGradNorm(params: readonly ParamLike[], maxNorm: number): number | Tensor {
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm))
    throw new RangeError(`clipGradNorm: maxNorm must be a positive finite number, got ${maxNorm}`);
  const device = groupDevice('clipGradNorm: parameters', params);
  if (device === null) {
    const grads: FloatArray[] = [];
    for (const p of params) if (p.gradView) grads.push(p.gradView);
    return clipArrays(grads, maxNorm);
  }
  const grads: Tensor[] = [];
  for (const p of params) if (isTensorParam(p) && p.grad) grads.push(p.grad);
  const total = zeros([], { dtype: 'float64', device });
  runKernel<ClipGradNormKernel>(OPTIM_KERNELS.clipGradNorm, device, grads, maxNorm, total);
  return total;
}

/** Host clipping of gradient arrays in place; returns the norm before clipping. */
export function clipArrays(grads: readonly FloatArray[], maxNorm: number): number {
  let ss = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) ss += g[i]! * g[i]!;
  const total = Math.sqrt(ss);
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) for (const g of grads) for (let i = 0; i < g.length; i++) g[i] = g[i]! * coef;
  return total;
}
