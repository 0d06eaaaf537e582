/**
 * CPU kernel `optim.adam` (mirrored by 'sim'): the fused native call when the group has
 * `fused: true` (one call for the group), else `adamUpdate` per parameter — the same arithmetic
 * as the host-array path.
 */
import { registerKernel } from '@nl/tensor/internal';
import { adamUpdate } from '../adam.js';
import { adamFusedArrays } from '../adam_fused.js';
import type { FloatArray } from '../param.js';
import { gradView, paramView, stateView } from './host-state.js';
import { OPTIM_KERNELS, type AdamKernel } from './types.js';

const adamCpu: AdamKernel = (params, grads, expAvg, expAvgSq, maxExpAvgSq, steps, o, decoupled) => {
  const views = params.map(paramView);
  const gs = grads.map(gradView);
  const ms = expAvg.map((t) => stateView(t)!);
  const vs = expAvgSq.map((t) => stateView(t)!);
  const vmax = maxExpAvgSq.map(stateView);
  if (o.fused) {
    adamFusedArrays(views, gs, ms, vs, o.amsgrad ? (vmax as FloatArray[]) : null, steps, o, decoupled);
    return;
  }
  for (let i = 0; i < views.length; i++)
    adamUpdate(
      views[i]!,
      gs[i]!,
      { expAvg: ms[i]!, expAvgSq: vs[i]!, maxExpAvgSq: vmax[i] ?? null },
      steps[i]!,
      o,
      decoupled,
    );
};

registerKernel(OPTIM_KERNELS.adam, 'cpu', adamCpu);
