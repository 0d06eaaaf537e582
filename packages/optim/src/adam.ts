/**
 * Adam and AdamW (bias correction, amsgrad, maximize) — torch.optim.Adam/AdamW's update.
 * `adamUpdate` is the pure per-array update; Adam couples weight decay into the gradient,
 * AdamW decays the parameter directly (decoupled).
 */
import {
  checkNumber,
  Optimizer,
  zerosLike,
  type GroupInput,
  type ParamGroup,
  type ParamState,
} from './optimizer.js';
import type { FloatArray, ParamLike } from './param.js';
import { adamFusedGroupStep } from './adam_fused.js';
import { runKernel } from '@nl/tensor/internal';
import type { Device, Tensor } from '@nl/tensor';
import { stateZeros } from './device.js';
import { OPTIM_KERNELS, type AdamKernel } from './kernels/types.js';
import './kernels/adam.js';

/** Adam / AdamW options. */
export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
  /** one native call per group (fused kernel) instead of the TypeScript loop; default false */
  fused?: boolean;
}

/** Adam state arrays for one parameter. */
export interface AdamBuffers {
  expAvg: FloatArray;
  expAvgSq: FloatArray;
  maxExpAvgSq: FloatArray | null;
}

/**
 * One Adam(W) step in place. `step` is the 1-based step count after increment.
 * @param decoupled true for AdamW (param *= 1 - lr*wd), false for Adam (grad += wd*param)
 */
export function adamUpdate(
  param: FloatArray,
  grad: FloatArray,
  b: AdamBuffers,
  step: number,
  o: AdamOptions,
  decoupled: boolean,
): void {
  const { lr, eps, weightDecay: wd, amsgrad, maximize } = o;
  const [beta1, beta2] = o.betas;
  const bc1 = 1 - beta1 ** step;
  const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
  const stepSize = lr / bc1;
  const { expAvg: m, expAvgSq: v, maxExpAvgSq: vmax } = b;
  for (let i = 0; i < param.length; i++) {
    let g = maximize ? -grad[i]! : grad[i]!;
    let x = param[i]!;
    if (wd !== 0) {
      if (decoupled) x = x * (1 - lr * wd);
      else g += wd * x;
    }
    m[i] = m[i]! + (g - m[i]!) * (1 - beta1);
    v[i] = v[i]! * beta2 + (1 - beta2) * g * g;
    let vv = v[i]!;
    if (amsgrad && vmax) {
      vmax[i] = Math.max(vmax[i]!, vv);
      vv = vmax[i]!;
    }
    const denom = Math.sqrt(vv) / bc2Sqrt + eps;
    param[i] = x - stepSize * (m[i]! / denom);
  }
}

const ADAM_DEFAULTS: AdamOptions = {
  lr: 1e-3,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 0,
  amsgrad: false,
  maximize: false,
};

/** Validates Adam-family options with torch-like messages. */
export function validateAdam(name: string, o: AdamOptions): void {
  checkNumber(name, 'learning rate', o.lr, { min: 0 });
  checkNumber(name, 'epsilon value', o.eps, { min: 0 });
  if (!Array.isArray(o.betas) || o.betas.length !== 2)
    throw new TypeError(`${name}: betas must be [beta1, beta2]`);
  checkNumber(name, 'beta parameter at index 0', o.betas[0], { min: 0, max: 1, maxOpen: true });
  checkNumber(name, 'beta parameter at index 1', o.betas[1], { min: 0, max: 1, maxOpen: true });
  checkNumber(name, 'weight_decay value', o.weightDecay, { min: 0 });
  if (o.fused !== undefined && typeof o.fused !== 'boolean')
    throw new TypeError(`${name}: fused must be a boolean`);
}

/** Runs an Adam(W) step for one parameter, creating its state on first use. */
export function adamStepParam(
  p: ParamLike,
  grad: FloatArray,
  s: ParamState,
  o: AdamOptions,
  decoupled: boolean,
): void {
  if (!s.expAvg) {
    s.step = 0;
    s.expAvg = zerosLike(p.view);
    s.expAvgSq = zerosLike(p.view);
    if (o.amsgrad) s.maxExpAvgSq = zerosLike(p.view);
  }
  if (o.amsgrad && !s.maxExpAvgSq) s.maxExpAvgSq = zerosLike(p.view);
  s.step = (s.step as number) + 1;
  const bufs: AdamBuffers = {
    expAvg: s.expAvg as FloatArray,
    expAvgSq: s.expAvgSq as FloatArray,
    maxExpAvgSq: (s.maxExpAvgSq as FloatArray | undefined) ?? null,
  };
  adamUpdate(p.view, grad, bufs, s.step, o, decoupled);
}

/**
 * Tensor parameters: creates missing state on their device, bumps the step counts and runs one
 * `optim.adam` kernel call for all of them (fused or not, as `o.fused` says).
 */
export function adamDeviceStep(
  params: Tensor[],
  grads: Tensor[],
  stateOf: (p: ParamLike) => ParamState,
  o: AdamOptions,
  decoupled: boolean,
  device: Device,
): void {
  if (params.length === 0) return;
  const ms: Tensor[] = [],
    vs: Tensor[] = [],
    vmax: (Tensor | null)[] = [],
    steps: number[] = [];
  for (const p of params) {
    const s = stateOf(p);
    if (!s.expAvg) {
      s.step = 0;
      s.expAvg = stateZeros(p);
      s.expAvgSq = stateZeros(p);
    }
    if (o.amsgrad && !s.maxExpAvgSq) s.maxExpAvgSq = stateZeros(p);
    s.step = (s.step as number) + 1;
    ms.push(s.expAvg as Tensor);
    vs.push(s.expAvgSq as Tensor);
    vmax.push((s.maxExpAvgSq as Tensor | undefined) ?? null);
    steps.push(s.step);
  }
  runKernel<AdamKernel>(OPTIM_KERNELS.adam, device, params, grads, ms, vs, vmax, steps, o, decoupled);
}

/** Adam (torch.optim.Adam: L2 weight decay added to the gradient). */
export class Adam extends Optimizer<AdamOptions> {
  /** @param options defaults lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0 */
  constructor(
    params: readonly ParamLike[] | readonly GroupInput<AdamOptions>[],
    options: Partial<AdamOptions> = {},
  ) {
    super('Adam', params, { ...ADAM_DEFAULTS, ...options });
  }
  protected validate(o: AdamOptions): void {
    validateAdam(this.name ?? 'Adam', o);
  }
  protected stepParam(p: ParamLike, grad: FloatArray, s: ParamState, g: ParamGroup<AdamOptions>): void {
    adamStepParam(p, grad, s, g, false);
  }
  protected override stepGroup(g: ParamGroup<AdamOptions>): void {
    if (g.fused) adamFusedGroupStep(g.params, (p) => this.stateOf(p), g, false);
    else super.stepGroup(g);
  }
  protected override stepDeviceGroup(g: ParamGroup<AdamOptions>, device: Device): void {
    const { params, grads } = this.withGrads(g);
    adamDeviceStep(params, grads, (p) => this.stateOf(p), g, false, device);
  }
}

/** AdamW (torch.optim.AdamW: decoupled weight decay, default 1e-2). */
export class AdamW extends Optimizer<AdamOptions> {
  /** @param options defaults lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 1e-2 */
  constructor(
    params: readonly ParamLike[] | readonly GroupInput<AdamOptions>[],
    options: Partial<AdamOptions> = {},
  ) {
    super('AdamW', params, { ...ADAM_DEFAULTS, weightDecay: 1e-2, ...options });
  }
  protected validate(o: AdamOptions): void {
    validateAdam(this.name ?? 'AdamW', o);
  }
  protected stepParam(p: ParamLike, grad: FloatArray, s: ParamState, g: ParamGroup<AdamOptions>): void {
    adamStepParam(p, grad, s, g, true);
  }
  protected override stepGroup(g: ParamGroup<AdamOptions>): void {
    if (g.fused) adamFusedGroupStep(g.params, (p) => this.stateOf(p), g, true);
    else super.stepGroup(g);
  }
  protected override stepDeviceGroup(g: ParamGroup<AdamOptions>, device: Device): void {
    const { params, grads } = this.withGrads(g);
    adamDeviceStep(params, grads, (p) => this.stateOf(p), g, true, device);
  }
}
