/**
 * SGD with momentum, dampening, Nesterov and (coupled) weight decay — torch.optim.SGD's update.
 * `sgdUpdate` is the pure per-array update; `SGD` holds the momentum buffers.
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
import type { Device, Tensor } from '@nl/tensor';
import { stateZeros } from './device.js';
import { OPTIM_KERNELS, type SgdKernel } from './kernels/types.js';
import './kernels/sgd.js';

/** SGD options (torch names in camelCase). */
export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

const DEFAULTS: SGDOptions = {
  lr: 1e-3,
  momentum: 0,
  dampening: 0,
  weightDecay: 0,
  nesterov: false,
  maximize: false,
};

/**
 * One SGD step in place. `buf` is the momentum buffer (ignored when momentum is 0);
 * `first` marks its first use (torch initialises it with the gradient, undampened).
 */
export function sgdUpdate(
  param: FloatArray,
  grad: FloatArray,
  buf: FloatArray | null,
  first: boolean,
  o: SGDOptions,
): void {
  const { lr, momentum: mu, dampening, weightDecay: wd, nesterov, maximize } = o;
  for (let i = 0; i < param.length; i++) {
    let d = maximize ? -grad[i]! : grad[i]!;
    if (wd !== 0) d += wd * param[i]!;
    if (mu !== 0 && buf) {
      const b = first ? d : mu * buf[i]! + (1 - dampening) * d;
      buf[i] = b;
      d = nesterov ? d + mu * buf[i]! : buf[i]!;
    }
    param[i] = param[i]! - lr * d;
  }
}

/** Stochastic gradient descent (torch.optim.SGD semantics). */
export class SGD extends Optimizer<SGDOptions> {
  /** @param params parameters or groups; @param options defaults for every group (lr 1e-3) */
  constructor(
    params: readonly ParamLike[] | readonly GroupInput<SGDOptions>[],
    options: Partial<SGDOptions> = {},
  ) {
    super('SGD', params, { ...DEFAULTS, ...options });
  }

  protected validate(o: SGDOptions): void {
    checkNumber('SGD', 'learning rate', o.lr, { min: 0 });
    checkNumber('SGD', 'momentum', o.momentum, { min: 0 });
    checkNumber('SGD', 'dampening', o.dampening, { min: 0, max: 1 });
    checkNumber('SGD', 'weight decay', o.weightDecay, { min: 0 });
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0))
      throw new RangeError('SGD: Nesterov momentum requires a momentum > 0 and zero dampening');
  }

  protected stepParam(p: ParamLike, grad: FloatArray, s: ParamState, g: ParamGroup<SGDOptions>): void {
    let first = false;
    if (g.momentum !== 0 && !s.momentumBuffer) {
      s.momentumBuffer = zerosLike(p.view);
      first = true;
    }
    sgdUpdate(p.view, grad, (s.momentumBuffer as FloatArray | undefined) ?? null, first, g);
  }

  /** Tensor parameters: one `optim.sgd` kernel call for the group on its device. */
  protected override stepDeviceGroup(g: ParamGroup<SGDOptions>, device: Device): void {
    const { params, grads } = this.withGrads(g);
    if (params.length === 0) return;
    const bufs: (Tensor | null)[] = [];
    const first: boolean[] = [];
    for (const p of params) {
      const s = this.stateOf(p);
      let f = false;
      if (g.momentum !== 0 && !s.momentumBuffer) {
        s.momentumBuffer = stateZeros(p);
        f = true;
      }
      bufs.push((s.momentumBuffer as Tensor | undefined) ?? null);
      first.push(f);
    }
    runKernel<SgdKernel>(OPTIM_KERNELS.sgd, device, params, grads, bufs, first, g);
  }
}
