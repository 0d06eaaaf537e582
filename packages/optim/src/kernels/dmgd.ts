/**
 * CPU kernel `optim.dmgd` (mirrored by 'sim'): `dmgdInit` on the first step, then `dmgdUpdate`
 * on the opened state; the inner losses go to the `innerLoss` tensor.
 */
import { registerKernel } from '@nl/tensor/internal';
import { dmgdInit, dmgdUpdate } from '../dmgd.js';
import { asMatrix } from '../param.js';
import { closeState, gradView, openState, paramView } from './host-state.js';
import { OPTIM_KERNELS, type DmgdKernel } from './types.js';

const dmgdCpu: DmgdKernel = (params, grads, states, innerLoss, o) => {
  const losses = paramView(innerLoss);
  params.forEach((p, i) => {
    const { rows, cols } = asMatrix(p.shape);
    const host = openState(states[i]!);
    dmgdInit(host, cols, o);
    losses[i] = dmgdUpdate(paramView(p), gradView(grads[i]!), host, rows, cols, o);
    closeState(host, states[i]!);
  });
};

registerKernel(OPTIM_KERNELS.dmgd, 'cpu', dmgdCpu);
