/**
 * CPU kernel `optim.preconditionedMomentum` (mirrored by 'sim'): runs the user's preconditioner
 * (a host function on typed arrays, so host-kernel backends only) and the momentum update on the
 * opened state; arrays the preconditioner creates are adopted as tensors of the kernel's device.
 */
import { registerKernel } from '@nl/tensor/internal';
import { preconditionedMomentumStep } from '../preconditioned.js';
import { closeState, gradView, openState, paramView } from './host-state.js';
import { OPTIM_KERNELS, type PreconditionedMomentumKernel } from './types.js';

const preconditionedCpu: PreconditionedMomentumKernel = (params, grads, states, o) => {
  params.forEach((p, i) => {
    const host = openState(states[i]!);
    preconditionedMomentumStep(paramView(p), p.shape, gradView(grads[i]!), host, o, 'PreconditionedMomentum');
    closeState(host, states[i]!);
  });
};

registerKernel(OPTIM_KERNELS.preconditionedMomentum, 'cpu', preconditionedCpu);
