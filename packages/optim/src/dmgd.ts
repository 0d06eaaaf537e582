/**
 * DMGD — deep momentum gradient descent (NL §2, Eq. 50). The momentum is a small residual MLP
 * M(u) = u + W2 tanh(W1 u) (see dmgd_memory.ts) shared by the rows of a parameter, trained
 * online by its own inner objective: predict the next normalised gradient row from the previous
 * one (key u_{i−1}, value u_i; ℓ2 loss). Its parameters follow Eq. 50's inner rule
 *   φ ← α φ − η_in ∇L(φ)                                   (α = memoryDecay)
 * and the weights move along the memory's output on the current gradient:
 *   W ← W(1 − lr·wd) − lr · s · M(u_i / s),   s = RMS(u_i).
 * With W2 = 0 at start M is the identity (plain SGD); as the memory learns E[next | current] it
 * filters gradient noise the way momentum does, but through a trained non-linear map.
 */
import { memoryForward, memoryLossGrad } from './dmgd_memory.js';
import {
  checkInt,
  checkNumber,
  Optimizer,
  type GroupInput,
  type ParamGroup,
  type ParamState,
} from './optimizer.js';
import { asMatrix, type FloatArray, type ParamLike } from './param.js';
import { emptyTensor, runKernel } from '@nl/tensor/internal';
import { keep, type Device, type Tensor } from '@nl/tensor';
import { OPTIM_KERNELS, type DmgdKernel } from './kernels/types.js';
import './kernels/dmgd.js';

/** DMGD options. */
export interface DMGDOptions {
  lr: number;
  /** η_in: inner learning rate of the memory MLP */
  innerLr: number;
  /** α: retention of the memory's parameters per step (Eq. 50) */
  memoryDecay: number;
  /** hidden width h of the memory MLP */
  hidden: number;
  weightDecay: number;
  /** seed of W1's initialisation */
  seed: number;
}

const DEFAULTS: DMGDOptions = {
  lr: 1e-2,
  innerLr: 0.1,
  memoryDecay: 0.999,
  hidden: 16,
  weightDecay: 0,
  seed: 0,
};

function normalRng(seed: number): () => number {
  let s = seed >>> 0;
  const u = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

function rms(g: FloatArray): number {
  let n = 0;
  for (let i = 0; i < g.length; i++) n += g[i]! * g[i]!;
  return Math.sqrt(n / Math.max(1, g.length));
}

/**
 * One DMGD step in place. State: W1 [h, d], W2 [d, h], prevKey [rows, d] (normalised previous
 * gradient, empty before the first step).
 * @returns the inner loss of this step (NaN on the first step)
 */
export function dmgdUpdate(
  param: FloatArray,
  grad: FloatArray,
  s: ParamState,
  rows: number,
  d: number,
  o: DMGDOptions,
): number {
  const h = o.hidden;
  const W1 = s.W1 as Float64Array;
  const W2 = s.W2 as Float64Array;
  const scale = rms(grad);
  const inv = scale > 0 ? 1 / scale : 0;
  const cur = new Float64Array(grad.length);
  for (let i = 0; i < grad.length; i++) cur[i] = grad[i]! * inv;
  let loss = NaN;
  const prev = s.prevKey as Float64Array;
  if (prev.length === cur.length) {
    const gW1 = new Float64Array(W1.length);
    const gW2 = new Float64Array(W2.length);
    loss = memoryLossGrad(W1, W2, prev, cur, rows, d, h, gW1, gW2);
    for (let i = 0; i < W1.length; i++) W1[i] = o.memoryDecay * W1[i]! - o.innerLr * gW1[i]!;
    for (let i = 0; i < W2.length; i++) W2[i] = o.memoryDecay * W2[i]! - o.innerLr * gW2[i]!;
  }
  const out = new Float64Array(cur.length);
  memoryForward(W1, W2, cur, out, rows, d, h);
  const decay = 1 - o.lr * o.weightDecay;
  for (let i = 0; i < param.length; i++) param[i] = param[i]! * decay - o.lr * scale * out[i]!;
  s.prevKey = cur;
  s.step = (s.step as number) + 1;
  return loss;
}

/**
 * Creates a parameter's DMGD state on first use (W1 from the seeded normal RNG, W2 = 0, empty
 * prevKey, step 0) and checks that `hidden` did not change since.
 */
export function dmgdInit(s: ParamState, cols: number, o: DMGDOptions): void {
  if (!s.W1) {
    const r = normalRng(o.seed * 1000003 + cols * 31 + o.hidden);
    const std = 1 / Math.sqrt(cols);
    s.W1 = Float64Array.from({ length: o.hidden * cols }, () => r() * std);
    s.W2 = new Float64Array(cols * o.hidden);
    s.prevKey = new Float64Array(0);
    s.step = 0;
  }
  if ((s.W1 as Float64Array).length !== o.hidden * cols)
    throw new RangeError(
      `DMGD: hidden changed from the memory's width; it cannot change after the first step`,
    );
}

/** Deep momentum gradient descent: an MLP momentum trained online by its inner objective. */
export class DMGD extends Optimizer<DMGDOptions> {
  /** Inner loss of the last step for each plain-array parameter (diagnostic; NaN before two steps). */
  readonly lastInnerLoss = new Map<ParamLike, number>();
  /**
   * The same for Tensor parameters: a 0-d float64 tensor on the parameter's device (reading it
   * with `.item()` is one scalar transfer; the step itself reads nothing back).
   */
  readonly lastInnerLossTensor = new Map<ParamLike, Tensor>();

  /** @param options defaults lr 1e-2, innerLr 0.1, memoryDecay 0.999, hidden 16 */
  constructor(
    params: readonly ParamLike[] | readonly GroupInput<DMGDOptions>[],
    options: Partial<DMGDOptions> = {},
  ) {
    super('DMGD', params, { ...DEFAULTS, ...options });
  }

  protected validate(o: DMGDOptions): void {
    checkNumber('DMGD', 'learning rate', o.lr, { min: 0 });
    checkNumber('DMGD', 'innerLr', o.innerLr, { min: 0 });
    checkNumber('DMGD', 'memoryDecay', o.memoryDecay, { min: 0, max: 1 });
    checkInt('DMGD', 'hidden', o.hidden, 1);
    checkNumber('DMGD', 'weight decay', o.weightDecay, { min: 0 });
    checkInt('DMGD', 'seed', o.seed, 0);
  }

  protected stepParam(p: ParamLike, grad: FloatArray, s: ParamState, g: ParamGroup<DMGDOptions>): void {
    const { rows, cols } = asMatrix(p.shape);
    dmgdInit(s, cols, g);
    this.lastInnerLoss.set(p, dmgdUpdate(p.view, grad, s, rows, cols, g));
  }

  /** Tensor parameters: one `optim.dmgd` kernel call; W1, W2, prevKey live on the device. */
  protected override stepDeviceGroup(g: ParamGroup<DMGDOptions>, device: Device): void {
    const { params, grads } = this.withGrads(g);
    if (params.length === 0) return;
    const states = params.map((p) => this.stateOf(p));
    const losses = emptyTensor([params.length], 'float64', device, false);
    try {
      runKernel<DmgdKernel>(OPTIM_KERNELS.dmgd, device, params, grads, states, losses, g);
      params.forEach((p, i) => {
        this.lastInnerLossTensor.get(p)?.dispose();
        this.lastInnerLossTensor.set(p, keep(losses.select(0, i)));
      });
    } finally {
      losses.dispose();
    }
  }

  override dispose(): void {
    for (const t of this.lastInnerLossTensor.values()) t.dispose();
    this.lastInnerLossTensor.clear();
    super.dispose();
  }
}
