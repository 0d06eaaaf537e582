/**
 * Fused Adam/AdamW: one native call per parameter group (native/src/cpu/optim_adamw.cc) doing
 * the same arithmetic as `adamUpdate`, threaded over elements. Used when a group has
 * `fused: true`; the TypeScript `adamUpdate` stays the reference (conformance suite: fused == ref).
 * Without the addon (no binary for this platform) the fused call runs `adamUpdate` per array.
 */
import { hasNative, native } from '@nl/native';
import { adamUpdate, type AdamOptions } from './adam.js';
import { zerosLike, type ParamState } from './optimizer.js';
import type { FloatArray, ParamLike } from './param.js';

/** Runs one fused Adam(W) step on every parameter of a group that has a gradient. */
export function adamFusedGroupStep(
  params: readonly ParamLike[],
  stateOf: (p: ParamLike) => ParamState,
  o: AdamOptions,
  decoupled: boolean,
): void {
  const views: FloatArray[] = [],
    grads: FloatArray[] = [],
    ms: FloatArray[] = [],
    vs: FloatArray[] = [];
  const vmax: FloatArray[] = [],
    steps: number[] = [];
  for (const p of params) {
    const g = p.gradView;
    if (!g) continue;
    if (g.constructor !== p.view.constructor)
      throw new TypeError('Adam (fused): gradView must have the same dtype as the parameter view');
    const s = stateOf(p);
    if (!s.expAvg) {
      s.step = 0;
      s.expAvg = zerosLike(p.view);
      s.expAvgSq = zerosLike(p.view);
    }
    if (o.amsgrad && !s.maxExpAvgSq) s.maxExpAvgSq = zerosLike(p.view);
    s.step = (s.step as number) + 1;
    views.push(p.view);
    grads.push(g);
    ms.push(s.expAvg as FloatArray);
    vs.push(s.expAvgSq as FloatArray);
    if (o.amsgrad) vmax.push(s.maxExpAvgSq as FloatArray);
    steps.push(s.step);
  }
  if (views.length === 0) return;
  adamFusedArrays(views, grads, ms, vs, o.amsgrad ? vmax : null, steps, o, decoupled);
}

/** The fused native Adam(W) call on arrays (one call for all of them; JS loops without the addon). */
export function adamFusedArrays(
  views: FloatArray[],
  grads: FloatArray[],
  ms: FloatArray[],
  vs: FloatArray[],
  vmax: FloatArray[] | null,
  steps: number[],
  o: AdamOptions,
  decoupled: boolean,
): void {
  for (let i = 0; i < views.length; i++)
    if (grads[i]!.constructor !== views[i]!.constructor)
      throw new TypeError('Adam (fused): gradView must have the same dtype as the parameter view');
  if (!hasNative()) {
    for (let i = 0; i < views.length; i++) {
      const b = { expAvg: ms[i]!, expAvgSq: vs[i]!, maxExpAvgSq: vmax?.[i] ?? null };
      adamUpdate(views[i]!, grads[i]!, b, steps[i]!, o, decoupled);
    }
    return;
  }
  native.optimAdamStep(
    views,
    grads,
    ms,
    vs,
    vmax,
    steps,
    o.lr,
    o.betas[0],
    o.betas[1],
    o.eps,
    o.weightDecay,
    decoupled,
    o.amsgrad,
    o.maximize,
  );
}
