/**
 * Muon (KellerJordan/Muon semantics, re-implemented): Nesterov momentum (0.95) on the gradient,
 * orthogonalised by quintic Newton–Schulz (5 steps), scaled by sqrt(max(1, rows/cols)); decoupled
 * weight decay. Parameters with fewer than 2 dims — or any group marked `useMuon: false`
 * (embeddings, heads) — get AdamW with the `adam*` options instead. Params with more than 2
 * dims are treated as [shape[0], rest] matrices.
 */
import { adamStepParam, validateAdam } from './adam.js';
import { newtonSchulz, newtonSchulzRef } from './newton_schulz.js';
import {
  checkInt,
  checkNumber,
  Optimizer,
  zerosLike,
  type GroupInput,
  type ParamGroup,
  type ParamState,
} from './optimizer.js';
import { asMatrix, type FloatArray, type ParamLike } from './param.js';
import { adamDeviceStep } from './adam.js';
import { emptyTensor, runKernel } from '@nl/tensor/internal';
import type { Device, Tensor } from '@nl/tensor';
import { stateZeros } from './device.js';
import { newtonSchulzTensor } from './newton_schulz_tensor.js';
import {
  OPTIM_KERNELS,
  type MuonApplyKernel,
  type MuonMomentumKernel,
  type MuonReferenceKernel,
} from './kernels/types.js';
import './kernels/muon.js';

/** Muon options (Muon part, then the auxiliary AdamW part). */
export interface MuonOptions {
  lr: number;
  momentum: number;
  nesterov: boolean;
  nsSteps: number;
  weightDecay: number;
  /** true: every param of the group uses Muon; false: AdamW; undefined: Muon for >= 2-D params */
  useMuon: boolean | undefined;
  adamLr: number;
  adamBetas: [number, number];
  adamEps: number;
  adamWeightDecay: number;
  /** 'native' (GEMM, param dtype) or 'reference' (float64 loops) Newton–Schulz */
  impl: 'native' | 'reference';
}

const DEFAULTS: MuonOptions = {
  lr: 0.02,
  momentum: 0.95,
  nesterov: true,
  nsSteps: 5,
  weightDecay: 0,
  useMuon: undefined,
  adamLr: 3e-4,
  adamBetas: [0.9, 0.95],
  adamEps: 1e-10,
  adamWeightDecay: 0,
  impl: 'native',
};

/**
 * Muon's direction for one matrix: updates `buf` (EMA of gradients) and returns
 * NS(nesterov ? lerp(g, buf, β) : buf) · sqrt(max(1, rows/cols)).
 */
export function muonDirection(
  grad: FloatArray,
  buf: FloatArray,
  rows: number,
  cols: number,
  o: Pick<MuonOptions, 'momentum' | 'nesterov' | 'nsSteps' | 'impl'>,
): FloatArray {
  const u = momentumInput(grad, buf, o);
  const out =
    o.impl === 'reference'
      ? newtonSchulzRef(u, rows, cols, o.nsSteps)
      : newtonSchulz(u, rows, cols, { steps: o.nsSteps, out: u });
  const scale = Math.sqrt(Math.max(1, rows / cols));
  for (let i = 0; i < out.length; i++) u[i] = out[i]! * scale;
  return u;
}

/** Updates the EMA buffer and returns Newton–Schulz's input (Nesterov lerp or the buffer). */
export function momentumInput(
  grad: FloatArray,
  buf: FloatArray,
  o: Pick<MuonOptions, 'momentum' | 'nesterov'>,
): FloatArray {
  const u = grad instanceof Float32Array ? new Float32Array(grad.length) : new Float64Array(grad.length);
  return momentumInto(grad, buf, u, o);
}

/** `momentumInput` writing Newton–Schulz's input into `out` (same arithmetic); returns `out`. */
export function momentumInto(
  grad: FloatArray,
  buf: FloatArray,
  out: FloatArray,
  o: Pick<MuonOptions, 'momentum' | 'nesterov'>,
): FloatArray {
  const beta = o.momentum;
  for (let i = 0; i < grad.length; i++) {
    buf[i] = buf[i]! + (grad[i]! - buf[i]!) * (1 - beta);
    out[i] = o.nesterov ? grad[i]! + (buf[i]! - grad[i]!) * beta : buf[i]!;
  }
  return out;
}

/** Muon with auxiliary AdamW for non-matrix parameters. */
export class Muon extends Optimizer<MuonOptions> {
  /** @param options defaults lr 0.02, momentum 0.95, nesterov, 5 NS steps; AdamW part lr 3e-4, betas [0.9, 0.95] */
  constructor(
    params: readonly ParamLike[] | readonly GroupInput<MuonOptions>[],
    options: Partial<MuonOptions> = {},
  ) {
    super('Muon', params, { ...DEFAULTS, ...options });
  }

  protected validate(o: MuonOptions): void {
    checkNumber('Muon', 'learning rate', o.lr, { min: 0 });
    checkNumber('Muon', 'momentum', o.momentum, { min: 0, max: 1, maxOpen: true });
    checkInt('Muon', 'nsSteps', o.nsSteps, 0);
    checkNumber('Muon', 'weight decay', o.weightDecay, { min: 0 });
    if (o.useMuon !== undefined && typeof o.useMuon !== 'boolean')
      throw new TypeError('Muon: useMuon must be true, false or undefined');
    if (o.impl !== 'native' && o.impl !== 'reference')
      throw new TypeError(`Muon: impl must be 'native' or 'reference', got ${String(o.impl)}`);
    validateAdam('Muon (AdamW part)', {
      lr: o.adamLr,
      betas: o.adamBetas,
      eps: o.adamEps,
      weightDecay: o.adamWeightDecay,
      amsgrad: false,
      maximize: false,
    });
  }

  /** Whether a parameter of this group takes the Muon update. */
  usesMuon(p: ParamLike, g: MuonOptions): boolean {
    return g.useMuon ?? p.shape.length >= 2;
  }

  protected stepParam(p: ParamLike, grad: FloatArray, s: ParamState, g: ParamGroup<MuonOptions>): void {
    if (!this.usesMuon(p, g)) {
      const o = {
        lr: g.adamLr,
        betas: g.adamBetas,
        eps: g.adamEps,
        weightDecay: g.adamWeightDecay,
        amsgrad: false,
        maximize: false,
      };
      adamStepParam(p, grad, s, o, true);
      return;
    }
    if (!s.momentumBuffer) s.momentumBuffer = zerosLike(p.view);
    const { rows, cols } = asMatrix(p.shape);
    const d = muonDirection(grad, s.momentumBuffer as FloatArray, rows, cols, g);
    applyMuon(p.view, d, g);
  }

  /**
   * Native path: matrices of the same shape and dtype share one batched Newton–Schulz call
   * (one native call per shape per group). The reference path steps parameter by parameter.
   */
  protected override stepGroup(g: ParamGroup<MuonOptions>): void {
    if (g.impl !== 'native') return super.stepGroup(g);
    const batches = new Map<string, ParamLike[]>();
    for (const p of g.params) {
      const grad = p.gradView;
      if (!grad) continue;
      if (!this.usesMuon(p, g)) {
        this.stepParam(p, grad, this.stateOf(p), g);
        continue;
      }
      const { rows, cols } = asMatrix(p.shape);
      const key = `${rows}x${cols}:${p.view instanceof Float32Array ? 32 : 64}`;
      const list = batches.get(key) ?? [];
      list.push(p);
      batches.set(key, list);
    }
    for (const list of batches.values()) {
      const { rows, cols } = asMatrix(list[0]!.shape);
      const n = rows * cols;
      const Ctor = list[0]!.view instanceof Float32Array ? Float32Array : Float64Array;
      const stack = new Ctor(n * list.length);
      list.forEach((p, b) => {
        const s = this.stateOf(p);
        if (!s.momentumBuffer) s.momentumBuffer = zerosLike(p.view);
        stack.set(momentumInput(p.gradView!, s.momentumBuffer as FloatArray, g), b * n);
      });
      newtonSchulz(stack, rows, cols, { steps: g.nsSteps, batch: list.length, out: stack });
      const scale = Math.sqrt(Math.max(1, rows / cols));
      for (let i = 0; i < stack.length; i++) stack[i] = stack[i]! * scale;
      list.forEach((p, b) => applyMuon(p.view, stack.subarray(b * n, (b + 1) * n), g));
    }
  }

  /**
   * Tensor parameters on their device: AdamW (`optim.adam`) for the non-Muon ones; per group of
   * same-shape matrices one `optim.muonMomentum` call into a [batch, rows, cols] stack, one
   * batched Newton–Schulz on it (the backend's `optim.newtonSchulz`, or tensor ops on its GEMM),
   * and one `optim.muonApply`. `impl: 'reference'` runs `optim.muonReference` (CPU only).
   */
  protected override stepDeviceGroup(g: ParamGroup<MuonOptions>, device: Device): void {
    const { params, grads } = this.withGrads(g);
    const adamP: Tensor[] = [],
      adamG: Tensor[] = [];
    const batches = new Map<string, { params: Tensor[]; grads: Tensor[] }>();
    params.forEach((p, i) => {
      if (!this.usesMuon(p, g)) {
        adamP.push(p);
        adamG.push(grads[i]!);
        return;
      }
      const { rows, cols } = asMatrix(p.shape);
      const key = g.impl === 'native' ? `${rows}x${cols}:${p.dtype}` : 'all';
      const b = batches.get(key) ?? { params: [], grads: [] };
      b.params.push(p);
      b.grads.push(grads[i]!);
      batches.set(key, b);
    });
    const adamOpts = {
      lr: g.adamLr,
      betas: g.adamBetas,
      eps: g.adamEps,
      weightDecay: g.adamWeightDecay,
      amsgrad: false,
      maximize: false,
    };
    // host path order: params in group order; AdamW params are independent of the Muon ones
    adamDeviceStep(adamP, adamG, (p) => this.stateOf(p), adamOpts, true, device);
    for (const b of batches.values()) {
      const bufs = b.params.map((p) => {
        const s = this.stateOf(p);
        if (!s.momentumBuffer) s.momentumBuffer = stateZeros(p);
        return s.momentumBuffer as Tensor;
      });
      if (g.impl !== 'native') {
        runKernel<MuonReferenceKernel>(OPTIM_KERNELS.muonReference, device, b.params, b.grads, bufs, g);
        continue;
      }
      const { rows, cols } = asMatrix(b.params[0]!.shape);
      const stack = emptyTensor([b.params.length, rows, cols], b.params[0]!.dtype, device, false);
      try {
        runKernel<MuonMomentumKernel>(OPTIM_KERNELS.muonMomentum, device, b.grads, bufs, stack, g);
        newtonSchulzTensor(stack, { steps: g.nsSteps, out: stack });
        const scale = Math.sqrt(Math.max(1, rows / cols));
        runKernel<MuonApplyKernel>(OPTIM_KERNELS.muonApply, device, b.params, stack, scale, g);
      } finally {
        stack.dispose();
      }
    }
  }
}

/** W ← W(1 − lr·wd) − lr·d. */
export function applyMuon(w: FloatArray, d: FloatArray, g: Pick<MuonOptions, 'lr' | 'weightDecay'>): void {
  const decay = 1 - g.lr * g.weightDecay;
  for (let i = 0; i < w.length; i++) w[i] = w[i]! * decay - g.lr * d[i]!;
}
