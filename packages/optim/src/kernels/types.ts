/**
 * The optimizer update kernels: op names and signatures in the tensor kernel registry. A backend
 * runs @nl/optim on its device by registering these (`registerKernel(op, backend, fn)` from
 * '@nl/tensor/internal'); the CPU versions live next to this file and 'sim' mirrors them. Every
 * kernel is multi-tensor (one call per parameter group), updates its tensors in place and
 * returns nothing; option objects and step counts are host values.
 */
import type { Tensor } from '@nl/tensor';
import type { AdamOptions } from '../adam.js';
import type { DeltaMomentumOptions } from '../delta_momentum.js';
import type { DMGDOptions } from '../dmgd.js';
import type { M3Options } from '../m3.js';
import type { MuonOptions } from '../muon.js';
import type { ParamState } from '../optimizer.js';
import type { PreconditionedMomentumOptions } from '../preconditioned.js';
import type { SGDOptions } from '../sgd.js';

/** The op names. */
export const OPTIM_KERNELS = {
  sgd: 'optim.sgd',
  adam: 'optim.adam',
  muonMomentum: 'optim.muonMomentum',
  newtonSchulz: 'optim.newtonSchulz',
  muonApply: 'optim.muonApply',
  muonReference: 'optim.muonReference',
  deltaMomentum: 'optim.deltaMomentum',
  m3: 'optim.m3',
  dmgd: 'optim.dmgd',
  preconditionedMomentum: 'optim.preconditionedMomentum',
  clipGradNorm: 'optim.clipGradNorm',
} as const;

/** `optim.sgd`: torch SGD on every param; `bufs[i]` null when momentum is 0, `first[i]` on its first use. */
export type SgdKernel = (
  params: Tensor[],
  grads: Tensor[],
  bufs: (Tensor | null)[],
  first: boolean[],
  o: SGDOptions,
) => void;

/** `optim.adam`: Adam (decoupled false) / AdamW; `steps` are the 1-based counts after increment. */
export type AdamKernel = (
  params: Tensor[],
  grads: Tensor[],
  expAvg: Tensor[],
  expAvgSq: Tensor[],
  maxExpAvgSq: (Tensor | null)[],
  steps: number[],
  o: AdamOptions,
  decoupled: boolean,
) => void;

/**
 * `optim.muonMomentum`: buf ← lerp(buf, g, 1−β) for each param; writes Newton–Schulz's input
 * (Nesterov lerp(g, buf, β), or buf) into `out[i]` of the stack `out` [params.length, rows, cols].
 */
export type MuonMomentumKernel = (
  grads: Tensor[],
  bufs: Tensor[],
  out: Tensor,
  o: Pick<MuonOptions, 'momentum' | 'nesterov'>,
) => void;

/**
 * `optim.newtonSchulz` (optional): in place on the stack x [batch, rows, cols], `steps`
 * iterations. A backend without it gets `newtonSchulzTensor`'s composition of tensor ops, whose
 * products run on the backend's batched 'gemm' kernel.
 */
export type NewtonSchulzKernel = (x: Tensor, rows: number, cols: number, steps: number) => void;

/** `optim.muonApply`: d = stack[i]·scale (rounded to the stack dtype); W ← W(1 − lr·wd) − lr·d. */
export type MuonApplyKernel = (
  params: Tensor[],
  stack: Tensor,
  scale: number,
  o: Pick<MuonOptions, 'lr' | 'weightDecay'>,
) => void;

/** `optim.muonReference`: the float64 reference Muon step, parameter by parameter (CPU only). */
export type MuonReferenceKernel = (params: Tensor[], grads: Tensor[], bufs: Tensor[], o: MuonOptions) => void;

/** `optim.deltaMomentum`: m ← m(αI − λ ĝᵀĝ) − ηg; W ← W(1 − η·wd) + m, each param as [rows, cols]. */
export type DeltaMomentumKernel = (
  params: Tensor[],
  grads: Tensor[],
  bufs: Tensor[],
  o: DeltaMomentumOptions,
) => void;

/**
 * `optim.m3`, `optim.dmgd`, `optim.preconditionedMomentum`: one step of every param with its
 * state (tensors on the device, numbers on the host; the kernel creates missing state on the
 * device and updates the numbers). `optim.dmgd` writes each param's inner loss into
 * `innerLoss[i]` (float64 [params.length]).
 */
export type StateKernel<O> = (params: Tensor[], grads: Tensor[], states: ParamState[], o: O) => void;
export type M3Kernel = StateKernel<M3Options>;
export type DmgdKernel = (
  params: Tensor[],
  grads: Tensor[],
  states: ParamState[],
  innerLoss: Tensor,
  o: DMGDOptions,
) => void;
export type PreconditionedMomentumKernel = StateKernel<PreconditionedMomentumOptions>;

/**
 * `optim.clipGradNorm`: total = ‖all grads‖₂ written to the float64 0-d `total`; when
 * maxNorm/(total + 1e-6) < 1 every grad is scaled by it in place.
 */
export type ClipGradNormKernel = (grads: Tensor[], maxNorm: number, total: Tensor) => void;
