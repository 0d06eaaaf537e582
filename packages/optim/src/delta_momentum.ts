/**
 * Delta momentum (NL §2, Eqs. 48–49, ambiguity A22): momentum as a memory trained by GD on the
 * ℓ2 objective ||m gᵀ − P||², which adds an erase term:
 *   m ← m (α I − λ ĝᵀ ĝ) − η g,   W ← W + m,   ĝ = g / ||g||_F (when `normalize`).
 * Shapes: W, g, m are [rows, cols] (1-D params are one row, >2-D fold trailing dims);
 * m ĝᵀĝ is computed as (m ĝᵀ) ĝ ([rows, rows] then [rows, cols]).
 */
import {
  checkNumber,
  Optimizer,
  zerosLike,
  type GroupInput,
  type ParamGroup,
  type ParamState,
} from './optimizer.js';
import { gemm, hasNative } from '@nl/native';
import { asMatrix, type FloatArray, type ParamLike } from './param.js';
import { runKernel } from '@nl/tensor/internal';
import type { Device, Tensor } from '@nl/tensor';
import { stateZeros } from './device.js';
import { OPTIM_KERNELS, type DeltaMomentumKernel } from './kernels/types.js';
import './kernels/delta-momentum.js';

/** Delta-momentum options. */
export interface DeltaMomentumOptions {
  /** η: step on the gradient (value) term */
  lr: number;
  /** α: momentum retention */
  momentum: number;
  /** λ: step on the erase term (0 gives classic momentum m ← αm − ηg) */
  erase: number;
  /** normalise g in the erase term (recommended; then 0 <= λ <= 1 + α keeps it stable) */
  normalize: boolean;
  /** decoupled weight decay: W ← W(1 − lr·wd) */
  weightDecay: number;
  /** 'native': the two products on the native GEMM (float64; plain loops without the addon); 'reference': plain loops */
  impl: 'native' | 'reference';
}

const DEFAULTS: DeltaMomentumOptions = {
  lr: 1e-2,
  momentum: 0.9,
  erase: 0.5,
  normalize: true,
  weightDecay: 0,
  impl: 'native',
};

/**
 * One delta-momentum step in place on a [rows, cols] parameter.
 * @param m momentum buffer [rows, cols]
 */
export function deltaMomentumUpdate(
  param: FloatArray,
  grad: FloatArray,
  m: FloatArray,
  rows: number,
  cols: number,
  o: DeltaMomentumOptions,
): void {
  const { lr, momentum: alpha, erase: lambda, normalize, weightDecay: wd } = o;
  let scale = 1;
  if (normalize) {
    let n = 0;
    for (let i = 0; i < grad.length; i++) n += grad[i]! * grad[i]!;
    scale = n > 0 ? 1 / Math.sqrt(n) : 0;
  }
  // K = m ĝᵀ : [rows, rows];  E = K ĝ : [rows, cols]
  const next = new Float64Array(rows * cols);
  if (lambda !== 0) {
    const K = new Float64Array(rows * rows);
    if (o.impl === 'native' && hasNative()) {
      const m64 = m instanceof Float64Array ? m : Float64Array.from(m);
      const g64 = grad instanceof Float64Array ? grad : Float64Array.from(grad);
      gemm(m64, g64, K, rows, rows, cols, { transB: true, alpha: scale });
      gemm(K, g64, next, rows, cols, rows, { alpha: scale });
    } else {
      for (let i = 0; i < rows; i++)
        for (let j = 0; j < rows; j++) {
          let acc = 0;
          for (let k = 0; k < cols; k++) acc += m[i * cols + k]! * grad[j * cols + k]!;
          K[i * rows + j] = acc * scale;
        }
      for (let i = 0; i < rows; i++)
        for (let k = 0; k < cols; k++) {
          let e = 0;
          for (let j = 0; j < rows; j++) e += K[i * rows + j]! * grad[j * cols + k]!;
          next[i * cols + k] = e * scale;
        }
    }
  }
  for (let i = 0; i < next.length; i++) next[i] = alpha * m[i]! - lambda * next[i]! - lr * grad[i]!;
  m.set(next);
  const decay = 1 - lr * wd;
  for (let i = 0; i < param.length; i++) param[i] = param[i]! * decay + m[i]!;
}

/** Delta momentum optimizer (ℓ2-objective momentum with its erase term). */
export class DeltaMomentum extends Optimizer<DeltaMomentumOptions> {
  /** @param options defaults lr 1e-2, momentum 0.9, erase 0.5, normalize true */
  constructor(
    params: readonly ParamLike[] | readonly GroupInput<DeltaMomentumOptions>[],
    options: Partial<DeltaMomentumOptions> = {},
  ) {
    super('DeltaMomentum', params, { ...DEFAULTS, ...options });
  }

  protected validate(o: DeltaMomentumOptions): void {
    checkNumber('DeltaMomentum', 'learning rate', o.lr, { min: 0 });
    checkNumber('DeltaMomentum', 'momentum', o.momentum, { min: 0, max: 1 });
    checkNumber('DeltaMomentum', 'erase', o.erase, { min: 0, max: o.normalize ? 1 + o.momentum : Infinity });
    checkNumber('DeltaMomentum', 'weight decay', o.weightDecay, { min: 0 });
    if (o.impl !== 'native' && o.impl !== 'reference')
      throw new TypeError(`DeltaMomentum: impl must be 'native' or 'reference', got ${String(o.impl)}`);
  }

  protected stepParam(
    p: ParamLike,
    grad: FloatArray,
    s: ParamState,
    g: ParamGroup<DeltaMomentumOptions>,
  ): void {
    if (!s.momentumBuffer) s.momentumBuffer = zerosLike(p.view);
    const { rows, cols } = asMatrix(p.shape);
    deltaMomentumUpdate(p.view, grad, s.momentumBuffer as FloatArray, rows, cols, g);
  }

  /** Tensor parameters: one `optim.deltaMomentum` kernel call for the group on its device. */
  protected override stepDeviceGroup(g: ParamGroup<DeltaMomentumOptions>, device: Device): void {
    const { params, grads } = this.withGrads(g);
    if (params.length === 0) return;
    const bufs = params.map((p) => {
      const s = this.stateOf(p);
      if (!s.momentumBuffer) s.momentumBuffer = stateZeros(p);
      return s.momentumBuffer as Tensor;
    });
    runKernel<DeltaMomentumKernel>(OPTIM_KERNELS.deltaMomentum, device, params, grads, bufs, g);
  }
}
