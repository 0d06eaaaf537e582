/**
 * CPU kernel `optim.clipGradNorm` (mirrored by 'sim'): the global norm in double over the
 * gradients in order (the host path's arithmetic), written to the 0-d float64 `total`; the
 * gradients are scaled in place when the norm exceeds `maxNorm`.
 */
import { registerKernel } from '@nl/tensor/internal';
import { clipArrays } from '../clip.js';
import { paramView } from './host-state.js';
import { OPTIM_KERNELS, type ClipGradNormKernel } from './types.js';

const clipCpu: ClipGradNormKernel = (grads, maxNorm, total) => {
  paramView(total)[0] = clipArrays(grads.map(paramView), maxNorm);
};

registerKernel(OPTIM_KERNELS.clipGradNorm, 'cpu', clipCpu);
