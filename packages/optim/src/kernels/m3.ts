/**
 * CPU kernel `optim.m3` (mirrored by 'sim'): `m3Update` on the opened state (its Newton–Schulz
 * is the native batched call); state it creates on the first step is adopted as tensors of the
 * kernel's device (no transfer).
 */
import { registerKernel } from '@nl/tensor/internal';
import { m3Update } from '../m3.js';
import { closeState, gradView, openState, paramView } from './host-state.js';
import { OPTIM_KERNELS, type M3Kernel } from './types.js';

const m3Cpu: M3Kernel = (params, grads, states, o) => {
  params.forEach((p, i) => {
    const host = openState(states[i]!);
    m3Update(paramView(p), gradView(grads[i]!), host, p.shape, o);
    closeState(host, states[i]!);
  });
};

registerKernel(OPTIM_KERNELS.m3, 'cpu', m3Cpu);
