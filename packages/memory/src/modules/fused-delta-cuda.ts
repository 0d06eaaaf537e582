/**
 * The 'cuda' kernels of the fused gated delta rule (`memory.gatedDeltaRule.forward` /
 * `.backward`, same signatures as the 'cpu' kernels of ./fused-delta.ts): token-recurrent native
 * kernels (native/src/cuda/kernels/delta_rule*.h), one block per (batch, head). The backward
 * recomputes the forward from chunk-boundary states (attrs.chunkSize tokens a chunk); the result
 * does not depend on the chunk size. Operands run in q's dtype (float32 or float64), contiguous.
 */
import { native } from '@nl/native';
import type { Tensor } from '@nl/tensor';
import { cudaDTypeOf, emptyTensor, registerKernel } from '@nl/tensor/internal';
import { inInputDtypes, off, ptr, Temps } from './cuda-operands.js';
// re-exported for the kernels that import them from here (self-modifying-cuda.ts)
export { off, ptr, Temps } from './cuda-operands.js';
import type { FusedDeltaAttrs } from './fused-delta.js';

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
    return inInputDtypes(grads, ctx.inputs);
  } finally {
    tmp.free();
  }
}

registerKernel('memory.gatedDeltaRule.forward', 'cuda', forwardCuda);
registerKernel('memory.gatedDeltaRule.backward', 'cuda', backwardCuda);
