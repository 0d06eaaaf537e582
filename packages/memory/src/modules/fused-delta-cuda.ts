/**
 * The 'cuda' kernels of the fused gated delta rule (`memory.gatedDeltaRule.forward` /
 * `.backward`, same signatures as the 'cpu' kernels of ./fused-delta.ts): token-recurrent native
 * kernels (native/src/cuda/kernels/delta_rule*.h), one block per (batch, head). The backward
 * recomputes the forward from chunk-boundary states (attrs.chunkSize tokens a chunk); the result
 * does not depend on the chunk size. Operands run in q's dtype (float32 or float64), contiguous.
 */
import { native } from '@nl/native';
import type { Tensor } from '@nl/tensor';
import { cudaDTypeOf, cudaPointer, emptyTensor, registerKernel } from '@nl/tensor/internal';
import type { FusedDeltaAttrs } from './fused-delta.js';

/** Copies made for one kernel call (contiguous / converted), disposed by `free()`. */
export class Temps {
  readonly #made: Tensor[] = [];
  /** `t` contiguous in `dtype`. */
  take(t: Tensor, dtype: Tensor['dtype']): Tensor {
    let c = t;
    if (c.dtype !== dtype) this.#made.push((c = c.to(dtype)));
    if (!c.isContiguous) this.#made.push((c = c.contiguous()));
    return c;
  }
  free(): void {
    for (const t of this.#made) t.dispose();
    this.#made.length = 0;
  }
}

export const ptr = (t: Tensor | null): number | null => (t === null ? null : cudaPointer(t.storage.buffer));
export const off = (t: Tensor | null): number => (t === null ? 0 : t.offset);

function dimsOf(q: Tensor, v: Tensor): number[] {
  const [B, T, H, Dk] = q.shape as [number, number, number, number];
  return [B, T, H, Dk, v.shape[3]!];
}

/** Whether the native kernels have work: every operand extent is non-empty. */
const nonEmpty = ([B, T, H, Dk, Dv]: number[]) => B * T * H * Dk * Dv > 0;

function forwardCuda(_ctx: unknown, inputs: Tensor[], attrs: FusedDeltaAttrs): [Tensor, Tensor] {
  const tmp = new Temps();
  try {
    const dtype = inputs[0]!.dtype;
    const [q, k, v, alpha, beta, s0] = inputs.map((t) => tmp.take(t, dtype)) as Tensor[];
    const dims = dimsOf(q!, v!);
    const o = emptyTensor(v!.shape, dtype, q!.device, !nonEmpty(dims));
    const state = emptyTensor(s0!.shape, dtype, q!.device, false);
    if (!nonEmpty(dims)) {
      if (state.numel > 0) state.copy_(s0!);
      return [o, state];
    }
    const ops = [q, k, v, alpha, beta, s0, o, state] as Tensor[];
    native.cudaDeltaRuleForward(cudaDTypeOf(dtype), dims, attrs.erase, ops.map(ptr), ops.map(off));
    return [o, state];
  } finally {
    tmp.free();
  }
}

interface BackwardCtx {
  inputs: readonly Tensor[];
  attrs: FusedDeltaAttrs;
}

function backwardCuda(ctx: BackwardCtx, [gO, gS]: (Tensor | null)[]): Tensor[] {
  const tmp = new Temps();
  try {
    const dtype = ctx.inputs[0]!.dtype;
    const [q, k, v, alpha, beta, s0] = ctx.inputs.map((t) => tmp.take(t, dtype));
    const dO = gO ? tmp.take(gO, dtype) : null;
    const dS = gS ? tmp.take(gS, dtype) : null;
    const dims = dimsOf(q!, v!);
    const grads = ctx.inputs.map((t) => emptyTensor(t.shape, dtype, q!.device, !nonEmpty(dims)));
    if (!nonEmpty(dims)) {
      if (dS && grads[5]!.numel > 0) grads[5]!.copy_(dS);
    } else {
      const ops = [q, k, v, alpha, beta, s0, dO, dS, ...grads] as (Tensor | null)[];
      const chunk = Math.max(1, Math.floor(ctx.attrs.chunkSize));
      native.cudaDeltaRuleBackward(
        cudaDTypeOf(dtype),
        dims,
        ctx.attrs.erase,
        chunk,
        ops.map(ptr),
        ops.map(off),
      );
    }
    return grads.map((g, i) => {
      const want = ctx.inputs[i]!.dtype;
      if (want === dtype) return g;
      const c = g.to(want);
      g.dispose();
      return c;
    });
  } finally {
    tmp.free();
  }
}

registerKernel('memory.gatedDeltaRule.forward', 'cuda', forwardCuda);
registerKernel('memory.gatedDeltaRule.backward', 'cuda', backwardCuda);
