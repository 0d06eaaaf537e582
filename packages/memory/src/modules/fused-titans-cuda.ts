/**
 * The 'cuda' kernels of the fused Titans MLP memory (`memory.titansMlp.forward` / `.backward`, same
 * signatures as the 'cpu' kernels of ./fused-titans.ts): native kernels of
 * native/src/cuda/kernels/titans_mlp*.h, one block per (batch, head); a chunk's inner-gradient
 * factors come from its start weights in three block-wide phases, the weights are then written and
 * read token by token. The backward recomputes the forward from chunk-boundary states. Operands run
 * in q's dtype (float32 or float64), contiguous.
 */
import { native } from '@nl/native';
import type { Tensor } from '@nl/tensor';
import { cudaDTypeOf, emptyTensor, registerKernel } from '@nl/tensor/internal';
import { inInputDtypes, off, ptr, Temps } from './cuda-operands.js';
import type { FusedTitansAttrs } from './fused-titans.js';

/** [B, T, H, D, Dh] from q [B, T, H, D] and the hidden width. */
function dimsOf(q: Tensor, hidden: number): number[] {
  const [B, T, H, D] = q.shape as [number, number, number, number];
  return [B, T, H, D, hidden];
}

/** Whether the native kernels have work: tokens and non-empty weights (else states pass through). */
const nonEmpty = ([B, T, H, D, Dh]: number[]) => B * T * H * D * Dh > 0;

/** Chunk size handed to the kernels (the attribute, at least 1). */
const chunkOf = (attrs: FusedTitansAttrs) => Math.max(1, Math.floor(attrs.chunkSize));

function forwardCuda(_ctx: unknown, inputs: Tensor[], attrs: FusedTitansAttrs): Tensor[] {
  const tmp = new Temps();
  try {
    const dtype = inputs[0]!.dtype;
    const ins = inputs.map((t) => tmp.take(t, dtype));
    const [q, , , , , , w1, w2] = ins as Tensor[];
    const dims = dimsOf(q!, attrs.hidden);
    const o = emptyTensor(q!.shape, dtype, q!.device, !nonEmpty(dims));
    const states = [w1!, w2!, w1!, w2!].map((w) => emptyTensor(w.shape, dtype, q!.device, false));
    if (!nonEmpty(dims)) {
      for (const [i, st] of states.entries()) if (st.numel > 0) st.copy_(ins[6 + i]!);
      return [o, ...states];
    }
    const ops = [...ins, o, ...states];
    native.cudaTitansMlpForward(
      cudaDTypeOf(dtype),
      dims,
      chunkOf(attrs),
      attrs.readAfterWrite,
      ops.map(ptr),
      ops.map(off),
    );
    return [o, ...states];
  } finally {
    tmp.free();
  }
}

interface BackwardCtx {
  inputs: readonly Tensor[];
  attrs: FusedTitansAttrs;
}

function backwardCuda(ctx: BackwardCtx, upstream: (Tensor | null | undefined)[]): Tensor[] {
  const tmp = new Temps();
  try {
    const dtype = ctx.inputs[0]!.dtype;
    const ins = ctx.inputs.map((t) => tmp.take(t, dtype));
    const ups = [0, 1, 2, 3, 4].map((i) => (upstream[i] ? tmp.take(upstream[i], dtype) : null));
    const q = ins[0]!;
    const dims = dimsOf(q, ctx.attrs.hidden);
    const grads = ctx.inputs.map((t) => emptyTensor(t.shape, dtype, q.device, !nonEmpty(dims)));
    if (!nonEmpty(dims)) {
      // T = 0 (or empty weights): the final-state gradients pass through
      for (let i = 6; i < 10; i++) {
        const u = ups[i - 5];
        if (u && grads[i]!.numel > 0) grads[i]!.copy_(u);
      }
    } else {
      const ops = [...ins, ...ups, ...grads];
      native.cudaTitansMlpBackward(
        cudaDTypeOf(dtype),
        dims,
        chunkOf(ctx.attrs),
        ctx.attrs.readAfterWrite,
        ops.map(ptr),
        ops.map(off),
      );
    }
    return inInputDtypes(grads, ctx.inputs);
  } finally {
    tmp.free();
  }
}

registerKernel('memory.titansMlp.forward', 'cuda', forwardCuda);
registerKernel('memory.titansMlp.backward', 'cuda', backwardCuda);
