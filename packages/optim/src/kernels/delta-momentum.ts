/** CPU kernel `optim.deltaMomentum` (mirrored by 'sim'): `deltaMomentumUpdate` on the opened tensors. */
import { registerKernel } from '@nl/tensor/internal';
import { deltaMomentumUpdate } from '../delta_momentum.js';
import { asMatrix } from '../param.js';
import { gradView, paramView } from './host-state.js';
import { OPTIM_KERNELS, type DeltaMomentumKernel } from './types.js';

const deltaMomentumCpu: DeltaMomentumKernel = (params, grads, bufs, o) => {
  params.forEach((p, i) => {
    const { rows, cols } = asMatrix(p.shape);
    deltaMomentumUpdate(paramView(p), gradView(grads[i]!), bufs[i]!.view, rows, cols, o);
  });
};

registerKernel(OPTIM_KERNELS.deltaMomentum, 'cpu', deltaMomentumCpu);
