/**
 * The 'cuda' kernels of the fused SelfModifyingTitans op (`memory.selfModifyingTitans.forward` /
 * `.backward`, same signatures and maths as the 'cpu' kernels of ./self-modifying-fused.ts):
 * native kernels (native/src/cuda/kernels/self_mod*.h), one block per (batch, head) running every
 * memory of the layer, in chunk ("dual") form with attrs.dual (default true: self_mod_dual*.h, the
 * pieces of the CPU dual form), else token by token (self_mod.h, self_mod_backward.h). The backward
 * recomputes the forward from block-boundary states (attrs.block tokens a block, else as the 'cpu'
 * kernels: ./self-modifying-block.ts); the result does not depend on the block. Operands run in x's
 * dtype (float32 or float64), contiguous. Op inputs: x, q [B, T, H, D], then w1, w2, s1, s2, a1, a2
 * (all memories stacked on axis 1). The 'cpu' kernels' optional value input (a 9th input, xv) is
 * refused: these kernels have none. attrs.innerGradClip > 0 (the per-token inner-gradient clip) runs
 * in both forms as on the CPU (self_mod_token.h's clip phase, self_mod_clip_back.h).
 */
import { native, type SelfModDims } from '@nl/native';
import type { Tensor } from '@nl/tensor';
import { cudaDTypeOf, emptyTensor, registerKernel } from '@nl/tensor/internal';
import { inInputDtypes, off, ptr, Temps } from './cuda-operands.js';
import { selfModOpBlock } from './self-modifying-block.js';
import type { FusedSelfModAttrs } from './self-modifying-fused.js';

/** The native dims of a call: sizes from x [B, T, H, D] and w1 [B, M, H, D, Dh], options from attrs. */
function dimsOf(x: Tensor, w1: Tensor, a: FusedSelfModAttrs): SelfModDims {
  const [batch, seqLen, heads, d] = x.shape as [number, number, number, number];
  const [, mems, , , hidden] = w1.shape as [number, number, number, number, number];
  return {
    batch, seqLen, heads, d, hidden, mems, tokens: a.tokens, chunkMem: a.chunkMem, chunkOther: a.chunkOther,
    block: selfModOpBlock(seqLen, a), momentum: a.momentum, alphaBias: a.alphaBias, etaBias: a.etaBias,
    adaptiveQ: a.adaptiveQ, readSnapshot: a.readSnapshot, dual: a.dual ?? true, innerGradClip: a.innerGradClip ?? 0,
  }; // prettier-ignore
}

/** The CUDA kernels read x for every generator: a value input (op input 9) is refused by name. */
export const CUDA_NO_VALUE_INPUT =
  "SelfModifyingTitans impl 'fused': a separate value input (xv) is supported by the CPU kernel only; the CUDA kernels have none (use impl 'chunked' on 'cuda')";

function forwardCuda(_ctx: unknown, inputs: Tensor[], attrs: FusedSelfModAttrs): Tensor[] {
  if (inputs.length > 8) throw new Error(CUDA_NO_VALUE_INPUT);
  const tmp = new Temps();
  try {
    const dtype = inputs[0]!.dtype;
    const ins = inputs.map((t) => tmp.take(t, dtype));
    const dims = dimsOf(ins[0]!, ins[2]!, attrs);
    const o = emptyTensor(ins[0]!.shape, dtype, ins[0]!.device, dims.seqLen === 0);
    const states = ins.slice(2).map((s) => emptyTensor(s.shape, dtype, s.device, false));
    if (dims.seqLen === 0) {
      states.forEach((s, i) => s.copy_(ins[2 + i]!));
      return [o, ...states];
    }
    const ops = [...ins, o, ...states];
    native.cudaSelfModForward(cudaDTypeOf(dtype), dims, ops.map(ptr), ops.map(off));
    return [o, ...states];
  } finally {
    tmp.free();
  }
}

interface BackwardCtx {
  inputs: readonly Tensor[];
  attrs: FusedSelfModAttrs;
}

function backwardCuda(ctx: BackwardCtx, grads: (Tensor | null)[]): (Tensor | null)[] {
  const tmp = new Temps();
  try {
    const dtype = ctx.inputs[0]!.dtype;
    const ins = ctx.inputs.map((t) => tmp.take(t, dtype));
    const g = grads.map((t) => (t ? tmp.take(t, dtype) : null));
    const dims = dimsOf(ins[0]!, ins[2]!, ctx.attrs);
    const out = ins.map((t) => emptyTensor(t.shape, dtype, t.device, dims.seqLen === 0));
    if (dims.seqLen === 0) {
      g.slice(1).forEach((s, i) => s && out[2 + i]!.copy_(s));
    } else {
      const ops = [...ins, ...g, ...out];
      native.cudaSelfModBackward(cudaDTypeOf(dtype), dims, ops.map(ptr), ops.map(off));
    }
    const res: (Tensor | null)[] = inInputDtypes(out, ctx.inputs);
    if (ctx.attrs.adaptiveQ) {
      res[1]!.dispose();
      res[1] = null; // q is unused with adaptiveQ
    }
    return res;
  } finally {
    tmp.free();
  }
}

registerKernel('memory.selfModifyingTitans.forward', 'cuda', forwardCuda);
registerKernel('memory.selfModifyingTitans.backward', 'cuda', backwardCuda);
