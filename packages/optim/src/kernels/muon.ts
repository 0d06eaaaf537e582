/**
 * CPU kernels of Muon (mirrored by 'sim'): `optim.muonMomentum` (EMA buffer + Nesterov input
 * into the stack), `optim.newtonSchulz` (the native batched call, in place; JS without the addon), `optim.muonApply`
 * (scale, decay, step) and `optim.muonReference` (the float64 loop reference, per parameter).
 * The same arithmetic as Muon's host-array path.
 */
import { registerKernel } from '@nl/tensor/internal';
import { applyMuon, momentumInto, muonDirection } from '../muon.js';
import { newtonSchulz } from '../newton_schulz.js';
import { asMatrix } from '../param.js';
import { gradView, paramView } from './host-state.js';
import {
  OPTIM_KERNELS,
  type MuonApplyKernel,
  type MuonMomentumKernel,
  type MuonReferenceKernel,
  type NewtonSchulzKernel,
} from './types.js';

const momentumCpu: MuonMomentumKernel = (grads, bufs, out, o) => {
  const stack = paramView(out);
  const n = stack.length / Math.max(1, grads.length);
  grads.forEach((g, b) => momentumInto(gradView(g), bufs[b]!.view, stack.subarray(b * n, (b + 1) * n), o));
};

const newtonSchulzCpu: NewtonSchulzKernel = (x, rows, cols, steps) => {
  const a = paramView(x);
  newtonSchulz(a, rows, cols, { steps, batch: a.length / (rows * cols), out: a });
};

const applyCpu: MuonApplyKernel = (params, out, scale, o) => {
  const stack = paramView(out);
  for (let i = 0; i < stack.length; i++) stack[i] = stack[i]! * scale;
  const n = stack.length / Math.max(1, params.length);
  params.forEach((p, b) => applyMuon(paramView(p), stack.subarray(b * n, (b + 1) * n), o));
};

const referenceCpu: MuonReferenceKernel = (params, grads, bufs, o) => {
  params.forEach((p, i) => {
    const { rows, cols } = asMatrix(p.shape);
    applyMuon(paramView(p), muonDirection(gradView(grads[i]!), bufs[i]!.view, rows, cols, o), o);
  });
};

registerKernel(OPTIM_KERNELS.muonMomentum, 'cpu', momentumCpu);
registerKernel(OPTIM_KERNELS.newtonSchulz, 'cpu', newtonSchulzCpu);
registerKernel(OPTIM_KERNELS.muonApply, 'cpu', applyCpu);
registerKernel(OPTIM_KERNELS.muonReference, 'cpu', referenceCpu);
