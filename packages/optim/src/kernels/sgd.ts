/** CPU kernel `optim.sgd` (mirrored by 'sim'): `sgdUpdate` on the opened tensors. */
import { registerKernel } from '@nl/tensor/internal';
import { sgdUpdate } from '../sgd.js';
import { gradView, paramView, stateView } from './host-state.js';
import { OPTIM_KERNELS, type SgdKernel } from './types.js';

const sgdCpu: SgdKernel = (params, grads, bufs, first, o) => {
  for (let i = 0; i < params.length; i++)
    sgdUpdate(paramView(params[i]!), gradView(grads[i]!), stateView(bufs[i]), first[i]!, o);
};

registerKernel(OPTIM_KERNELS.sgd, 'cpu', sgdCpu);
