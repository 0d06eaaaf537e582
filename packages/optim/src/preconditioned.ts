/**
 * Preconditioned momentum (NL §2, Eqs. 46–47): momentum whose "value" is P_i = P(g_i),
 *   m ← α m − η P(g),   W ← W + m.
 * P is pluggable: a function of the gradient and a per-parameter scratch state. Identity P is
 * classic heavy-ball momentum; `rmsPreconditioner` is a diagonal (Adam-like) example.
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
import { runKernel } from '@nl/tensor/internal';
import type { Device } from '@nl/tensor';
import { OPTIM_KERNELS, type PreconditionedMomentumKernel } from './kernels/types.js';
import './kernels/preconditioned.js';

/**
 * A preconditioner: returns P(g) (a new array or `grad` itself). It may keep arrays or numbers
 * in `state` (they are saved by stateDict).
 */
export type Preconditioner = (
  grad: FloatArray,
  ctx: { shape: readonly number[]; state: ParamState },
) => FloatArray;

/** P(g) = g. */
export const identityPreconditioner: Preconditioner = (grad) => grad;

/**
 * Diagonal RMS preconditioner P(g) = g / (sqrt(v̂) + eps), v an EMA of g² (bias-corrected).
 * @param beta2 EMA factor (default 0.999)
 * @param eps denominator floor (default 1e-8)
 */
export function rmsPreconditioner(beta2 = 0.999, eps = 1e-8): Preconditioner {
  const fn: Preconditioner = (grad, { state }) => {
    if (!state.pcV) {
      state.pcV = new Float64Array(grad.length);
      state.pcStep = 0;
    }
    const v = state.pcV as FloatArray;
    const t = (state.pcStep as number) + 1;
    state.pcStep = t;
    const bc = 1 - beta2 ** t;
    const out = new Float64Array(grad.length);
    for (let i = 0; i < grad.length; i++) {
      v[i] = beta2 * v[i]! + (1 - beta2) * grad[i]! * grad[i]!;
      out[i] = grad[i]! / (Math.sqrt(v[i]! / bc) + eps);
    }
    return out;
  };
  // its constants, so a device kernel can run the same preconditioner (src/kernels/cuda.ts)
  return Object.assign(fn, { rms: { beta2, eps } });
}

/** Preconditioned-momentum options. */
export interface PreconditionedMomentumOptions {
  lr: number;
  momentum: number;
  weightDecay: number;
  preconditioner: Preconditioner;
}

const DEFAULTS: PreconditionedMomentumOptions = {
  lr: 1e-2,
  momentum: 0.9,
  weightDecay: 0,
  preconditioner: identityPreconditioner,
};

/** One step in place: m ← αm − η·value, W ← W(1 − η·wd) + m. */
export function preconditionedMomentumUpdate(
  param: FloatArray,
  value: FloatArray,
  m: FloatArray,
  o: PreconditionedMomentumOptions,
): void {
  const decay = 1 - o.lr * o.weightDecay;
  for (let i = 0; i < param.length; i++) {
    m[i] = o.momentum * m[i]! - o.lr * value[i]!;
    param[i] = param[i]! * decay + m[i]!;
  }
}

/**
 * One preconditioned-momentum step of a parameter's values (creates the momentum buffer on first
 * use, calls the preconditioner, checks its length, updates `param` and the buffer in place).
 */
export function preconditionedMomentumStep(
  param: FloatArray,
  shape: readonly number[],
  grad: FloatArray,
  s: ParamState,
  o: PreconditionedMomentumOptions,
  name: string,
): void {
  if (!s.momentumBuffer) s.momentumBuffer = zerosLike(param);
  const value = o.preconditioner(grad, { shape, state: s });
  if (value.length !== grad.length)
    throw new RangeError(
      `${name}: preconditioner returned ${value.length} elements, expected ${grad.length}`,
    );
  preconditionedMomentumUpdate(param, value, s.momentumBuffer as FloatArray, o);
}

/** Momentum that maps each gradient to a value P(g) before accumulating it. */
export class PreconditionedMomentum extends Optimizer<PreconditionedMomentumOptions> {
  /** @param options defaults lr 1e-2, momentum 0.9, identity preconditioner */
  constructor(
    params: readonly ParamLike[] | readonly GroupInput<PreconditionedMomentumOptions>[],
    options: Partial<PreconditionedMomentumOptions> = {},
  ) {
    super('PreconditionedMomentum', params, { ...DEFAULTS, ...options });
  }

  protected validate(o: PreconditionedMomentumOptions): void {
    checkNumber(this.name, 'learning rate', o.lr, { min: 0 });
    checkNumber(this.name, 'momentum', o.momentum, { min: 0, max: 1 });
    checkNumber(this.name, 'weight decay', o.weightDecay, { min: 0 });
    if (typeof o.preconditioner !== 'function')
      throw new TypeError(`${this.name}: preconditioner must be a function`);
  }

  protected stepParam(
    p: ParamLike,
    grad: FloatArray,
    s: ParamState,
    g: ParamGroup<PreconditionedMomentumOptions>,
  ): void {
    preconditionedMomentumStep(p.view, p.shape, grad, s, g, this.name);
  }

  /**
   * Tensor parameters: one `optim.preconditionedMomentum` kernel call. The preconditioner is a
   * host function on typed arrays, so this runs on host-kernel devices (cpu, sim) only; the
   * state (momentum buffer, the preconditioner's arrays) lives on the device.
   */
  protected override stepDeviceGroup(g: ParamGroup<PreconditionedMomentumOptions>, device: Device): void {
    const { params, grads } = this.withGrads(g);
    if (params.length === 0) return;
    const states = params.map((p) => this.stateOf(p));
    runKernel<PreconditionedMomentumKernel>(
      OPTIM_KERNELS.preconditionedMomentum,
      device,
      params,
      grads,
      states,
      g,
    );
  }
}
