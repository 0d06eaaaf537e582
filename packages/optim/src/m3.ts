/**
 * M3 — multi-scale momentum Muon (NL §2.4, Algorithm 1; ambiguities A15/A16). A fast momentum
 * M1 (every step), a slow momentum M2 refreshed every `frequency` steps from the gradients
 * accumulated over that chunk (its orthogonalisation O2 is cached and reused for the whole next
 * chunk), and an Adam-style second moment V:
 *   θ ← θ − η (O1 + α O2) / (sqrt(V) + ε),   O = NewtonSchulz(M) for matrices, O = M otherwise.
 * mode 'literal': plain sums (M1 += β1 g, V += β2 g², M2 += β3 Σ_chunk g), exactly Algorithm 1.
 * mode 'practical': EMA moments with bias correction (M2 ← β3 M2 + (1−β3)·mean_chunk g), and the
 *   2-D update rescaled to RMS `rmsTarget` so `lr` is on AdamW's scale.
 */
import { newtonSchulz, newtonSchulzRef } from './newton_schulz.js';
import {
  checkInt,
  checkNumber,
  Optimizer,
  type GroupInput,
  type ParamGroup,
  type ParamState,
} from './optimizer.js';
import { asMatrix, type FloatArray, type ParamLike } from './param.js';
import { runKernel } from '@nl/tensor/internal';
import type { Device } from '@nl/tensor';
import { OPTIM_KERNELS, type M3Kernel } from './kernels/types.js';
import './kernels/m3.js';

/** M3 options. */
export interface M3Options {
  lr: number;
  /** [β1 fast momentum, β2 second moment, β3 slow momentum] */
  betas: [number, number, number];
  /** α: weight of the slow memory */
  alpha: number;
  eps: number;
  /** f: slow-momentum update period in steps */
  frequency: number;
  nsSteps: number;
  mode: 'literal' | 'practical';
  weightDecay: number;
  /** practical mode: RMS of the 2-D update direction (0 disables the rescale) */
  rmsTarget: number;
  /** Newton–Schulz implementation */
  impl: 'native' | 'reference';
}

const DEFAULTS: M3Options = {
  lr: 1e-3,
  betas: [0.9, 0.999, 0.9],
  alpha: 0.5,
  eps: 1e-8,
  frequency: 10,
  nsSteps: 5,
  mode: 'practical',
  weightDecay: 0,
  rmsTarget: 0.2,
  impl: 'native',
};

function orth(m: Float64Array, shape: readonly number[], o: M3Options): Float64Array {
  if (shape.length < 2) return m;
  const { rows, cols } = asMatrix(shape);
  if (o.impl === 'reference') return newtonSchulzRef(m, rows, cols, o.nsSteps);
  return newtonSchulz(m, rows, cols, { steps: o.nsSteps }) as Float64Array;
}

/** One M3 step in place; state arrays are float64 and created on the first call. */
export function m3Update(
  param: FloatArray,
  grad: FloatArray,
  s: ParamState,
  shape: readonly number[],
  o: M3Options,
): void {
  const n = param.length;
  if (!s.M1) {
    s.step = 0;
    s.M1 = new Float64Array(n);
    s.V = new Float64Array(n);
    s.M2 = new Float64Array(n);
    s.acc = new Float64Array(n);
    s.O2 = new Float64Array(n);
  }
  const [b1, b2, b3] = o.betas;
  const literal = o.mode === 'literal';
  const t = (s.step as number) + 1;
  s.step = t;
  const M1 = s.M1 as Float64Array,
    V = s.V as Float64Array,
    acc = s.acc as Float64Array;
  for (let i = 0; i < n; i++) {
    const g = grad[i]!;
    M1[i] = literal ? M1[i]! + b1 * g : b1 * M1[i]! + (1 - b1) * g;
    V[i] = literal ? V[i]! + b2 * g * g : b2 * V[i]! + (1 - b2) * g * g;
    acc[i] = acc[i]! + g;
  }
  const bc1 = literal ? 1 : 1 - b1 ** t;
  const bc2 = literal ? 1 : 1 - b2 ** t;
  let fast: Float64Array = M1;
  if (bc1 !== 1) fast = M1.map((v) => v / bc1);
  const O1 = orth(fast, shape, o);
  const O2 = s.O2 as Float64Array;
  const u = new Float64Array(n);
  for (let i = 0; i < n; i++) u[i] = (O1[i]! + o.alpha * O2[i]!) / (Math.sqrt(V[i]! / bc2) + o.eps);
  if (!literal && shape.length >= 2 && o.rmsTarget > 0) {
    let ss = 0;
    for (let i = 0; i < n; i++) ss += u[i]! * u[i]!;
    const r = Math.sqrt(ss / n);
    if (r > 0) for (let i = 0; i < n; i++) u[i] = (u[i]! * o.rmsTarget) / r;
  }
  const decay = 1 - o.lr * o.weightDecay;
  for (let i = 0; i < n; i++) param[i] = param[i]! * decay - o.lr * u[i]!;
  // slow memory: refreshed after the step that completes a chunk, used during the next chunk
  if (t % o.frequency === 0) {
    const M2 = s.M2 as Float64Array;
    for (let i = 0; i < n; i++) {
      M2[i] = literal ? M2[i]! + b3 * acc[i]! : b3 * M2[i]! + ((1 - b3) * acc[i]!) / o.frequency;
      acc[i] = 0;
    }
    const o2 = orth(M2, shape, o);
    O2.set(o2);
    s.slowUpdates = ((s.slowUpdates as number | undefined) ?? 0) + 1;
  }
}

/** Multi-scale momentum Muon (Algorithm 1), literal or practical. */
export class M3 extends Optimizer<M3Options> {
  /** @param options defaults lr 1e-3, betas [0.9, 0.999, 0.9], alpha 0.5, frequency 10, mode 'practical' */
  constructor(
    params: readonly ParamLike[] | readonly GroupInput<M3Options>[],
    options: Partial<M3Options> = {},
  ) {
    super('M3', params, { ...DEFAULTS, ...options });
  }

  protected validate(o: M3Options): void {
    checkNumber('M3', 'learning rate', o.lr, { min: 0 });
    if (!Array.isArray(o.betas) || o.betas.length !== 3)
      throw new TypeError('M3: betas must be [beta1, beta2, beta3]');
    o.betas.forEach((b, i) =>
      checkNumber('M3', `beta parameter at index ${i}`, b, { min: 0, max: 1, maxOpen: true }),
    );
    checkNumber('M3', 'alpha', o.alpha, { min: 0 });
    checkNumber('M3', 'epsilon value', o.eps, { min: 0 });
    checkInt('M3', 'frequency', o.frequency, 1);
    checkInt('M3', 'nsSteps', o.nsSteps, 0);
    if (o.mode !== 'literal' && o.mode !== 'practical')
      throw new TypeError(`M3: mode must be 'literal' or 'practical', got ${String(o.mode)}`);
    checkNumber('M3', 'weight decay', o.weightDecay, { min: 0 });
    checkNumber('M3', 'rmsTarget', o.rmsTarget, { min: 0 });
    if (o.impl !== 'native' && o.impl !== 'reference')
      throw new TypeError(`M3: impl must be 'native' or 'reference', got ${String(o.impl)}`);
  }

  protected stepParam(p: ParamLike, grad: FloatArray, s: ParamState, g: ParamGroup<M3Options>): void {
    m3Update(p.view, grad, s, p.shape, g);
  }

  /**
   * Tensor parameters: one `optim.m3` kernel call for the group; the float64 state (M1, V, M2,
   * acc, O2) lives on the device, created there by the kernel on the first step.
   */
  protected override stepDeviceGroup(g: ParamGroup<M3Options>, device: Device): void {
    const { params, grads } = this.withGrads(g);
    if (params.length === 0) return;
    const states = params.map((p) => this.stateOf(p));
    runKernel<M3Kernel>(OPTIM_KERNELS.m3, device, params, grads, states, g);
  }
}
