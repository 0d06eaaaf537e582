/**
 * The 'cuda' kernels of the fused Titans linear memory (`memory.titansLinear.forward` /
 * `.backward`, same signatures as the 'cpu' kernels of ./fused-titans-linear.ts): native kernels
 * of native/src/cuda/kernels/titans_linear.h, one block per (batch, head), a thread per memory row
 * (the forward needs no barrier); the backward recomputes each chunk from its boundary state and
 * reverses it in three block phases a token. Operands run in q's dtype (float32 or float64),
 * contiguous.
 */
import { native } from '@nl/native';
import type { Tensor } from '@nl/tensor';
import { cudaDTypeOf, emptyTensor, registerKernel } from '@nl/tensor/internal';
import { inInputDtypes, off, ptr, Temps } from './cuda-operands.js';
import type { FusedTitansLinearAttrs } from './fused-titans-linear.js';

/** [B, T, H, Dk, Dv] from q [B, T, H, Dk] and v [B, T, H, Dv]. */
function dimsOf(q: Tensor, v: Tensor): number[] {
  const [B, T, H, Dk] = q.shape as [number, number, number, number];
  return [B, T, H, Dk, v.shape[3]!];
}

/** Whether the native kernels have work: tokens and a non-empty memory (else states pass through). */
const nonEmpty = ([B, T, H, Dk, Dv]: number[]) => B * T * H * Dk * Dv > 0;

/** Chunk size handed to the kernels (the attribute, at least 1). */
const chunkOf = (attrs: FusedTitansLinearAttrs) => Math.max(1, Math.floor(attrs.chunkSize));

function forwardCuda(_ctx: unknown, inputs: Tensor[], attrs: FusedTitansLinearAttrs): Tensor[] {
  const tmp = new Temps();
  try {
    const dtype = inputs[0]!.dtype;
    const ins = inputs.map((t) => tmp.take(t, dtype));
    const [q, , v, , , , m0, s0] = ins as Tensor[];
    const dims = dimsOf(q!, v!);
    const o = emptyTensor(v!.shape, dtype, q!.device, !nonEmpty(dims));
    const m = emptyTensor(m0!.shape, dtype, q!.device, false);
    const s = emptyTensor(s0!.shape, dtype, q!.device, false);
    if (!nonEmpty(dims)) {
      if (m.numel > 0) m.copy_(m0!);
      if (s.numel > 0) s.copy_(s0!);
      return [o, m, s];
    }
    const ops = [...ins, o, m, s];
    native.cudaTitansLinearForward(
      cudaDTypeOf(dtype),
      dims,
      chunkOf(attrs),
      attrs.readAfterWrite,
      ops.map(ptr),
      ops.map(off),
    );
    return [o, m, s];
  } finally {
    tmp.free();
  }
}

interface BackwardCtx {
  inputs: readonly Tensor[];
  attrs: FusedTitansLinearAttrs;
}

function backwardCuda(ctx: BackwardCtx, upstream: (Tensor | null | undefined)[]): Tensor[] {
  const tmp = new Temps();
  try {
    const dtype = ctx.inputs[0]!.dtype;
    const ins = ctx.inputs.map((t) => tmp.take(t, dtype));
    const ups = [0, 1, 2].map((i) => (upstream[i] ? tmp.take(upstream[i], dtype) : null));
    const q = ins[0]!;
    const dims = dimsOf(q, ins[2]!);
    const grads = ctx.inputs.map((t) => emptyTensor(t.shape, dtype, q.device, !nonEmpty(dims)));
    if (!nonEmpty(dims)) {
      // T = 0 (or an empty memory): dM0 = dM, dS0 = dS
      for (const i of [6, 7]) {
        const u = ups[i - 5];
        if (u && grads[i]!.numel > 0) grads[i]!.copy_(u);
      }
    } else {
      const ops = [...ins, ...ups, ...grads];
      native.cudaTitansLinearBackward(
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

registerKernel('memory.titansLinear.forward', 'cuda', forwardCuda);
registerKernel('memory.titansLinear.backward', 'cuda', backwardCuda);
