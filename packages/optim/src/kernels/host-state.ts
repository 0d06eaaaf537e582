/**
 * Kernel-side helpers of the host-kernel backends (cpu, and 'sim' which runs the CPU kernels):
 * open a Tensor parameter, its gradient and its state tensors as typed arrays so the optimizers'
 * pure update functions can run on them unchanged. Only code running inside a kernel
 * (dispatched by runKernel) may call these; on 'sim' they throw anywhere else.
 */
import { keep, Tensor } from '@nl/tensor';
import { adoptOutput, elementsOf } from '@nl/tensor/internal';
import type { ParamState } from '../optimizer.js';
import type { FloatArray } from '../param.js';

/** The live elements of a parameter (writes change the tensor). */
export function paramView(p: Tensor): FloatArray {
  return p.view;
}

/** The elements of a gradient (live when contiguous, a gathered copy otherwise; read only). */
export function gradView(g: Tensor): FloatArray {
  return elementsOf(g) as FloatArray;
}

/** A state tensor's live elements, or null. */
export function stateView(t: Tensor | null | undefined): FloatArray | null {
  return t ? t.view : null;
}

/** A host view of a tensor state: every tensor opened as its live typed array. */
export function openState(s: ParamState): ParamState {
  const host: ParamState = {};
  for (const [k, v] of Object.entries(s)) host[k] = v instanceof Tensor ? v.view : v;
  return host;
}

/**
 * Writes a host view back into the tensor state after a pure update ran on it: numbers are
 * copied; an array the update replaced is copied into its tensor (same length) or adopted as a
 * new tensor on the kernel's device (no transfer); new arrays are adopted likewise.
 */
export function closeState(host: ParamState, s: ParamState): void {
  for (const [k, v] of Object.entries(host)) {
    const cur = s[k];
    if (typeof v === 'number' || v instanceof Tensor) {
      s[k] = v;
      continue;
    }
    if (cur instanceof Tensor) {
      const view = cur.view;
      if (view.buffer === v.buffer && view.byteOffset === v.byteOffset && view.length === v.length) continue;
      if (view.length === v.length && view.constructor === v.constructor) {
        view.set(v);
        continue;
      }
      cur.dispose();
    }
    s[k] = keep(adoptOutput(v, [v.length]));
  }
}
