/**
 * The fused Titans MLP-memory op: the native mini-batch chunk kernels of `kernels/titans-mlp`
 * (forward and backward, boundary states recomputed) registered through `defineOp` as the 'cpu'
 * kernels `memory.titansMlp.forward` / `.backward` (they also run on 'sim'). Inputs
 * q, k, v [B, T, H, D], θ, η, α [B, T, H], W1 [B, H, D, Dh], W2 [B, H, Dh, D], S1, S2 (same);
 * outputs o [B, T, H, D] and the final W1, W2, S1, S2. The call starts a new chunk at token 0.
 * ./fused-titans-cuda.ts adds the 'cuda' kernels.
 */
import { defineOp, type Tensor } from '@nl/tensor';
import { adoptOutput, elementsOf } from '@nl/tensor/internal';
import { allocLike } from '../kernels/alloc.js';
import { titansMlpBackward, titansMlpForward } from '../kernels/titans-mlp/native.js';
import type { FloatArray } from '../kernels/shape.js';
import { titansTokenInputs } from './fused-titans-linear.js';
import './fused-titans-cuda.js';

/** Attributes of the fused Titans op. */
export interface FusedTitansAttrs extends Record<string, unknown> {
  chunkSize: number;
  readAfterWrite: boolean;
  hidden: number;
}

/** Opens a tensor inside the kernel (row-major elements, no transfer). */
const arr = (t: Tensor): FloatArray => elementsOf(t) as FloatArray;

function kernelInputs(ins: readonly Tensor[], hidden: number) {
  const tokens = titansTokenInputs(ins);
  const [w1, w2, s1, s2] = ins.slice(6, 10).map(arr);
  return {
    ...tokens,
    w1: w1!,
    w2: w2!,
    s1: s1!,
    s2: s2!,
    shape: { ...tokens.shape, dv: tokens.shape.dk },
    hidden,
  };
}

const op = defineOp<FusedTitansAttrs>({
  name: 'memory.titansMlp',
  forward: {
    cpu(_ctx, inputs, attrs) {
      const r = titansMlpForward(kernelInputs(inputs, attrs.hidden), attrs);
      const [q, , , , , , w1, w2] = inputs as Tensor[];
      return [
        adoptOutput(r.o, q!.shape),
        adoptOutput(r.w1, w1!.shape),
        adoptOutput(r.w2, w2!.shape),
        adoptOutput(r.s1, w1!.shape),
        adoptOutput(r.s2, w2!.shape),
      ];
    },
  },
  backward: {
    cpu(ctx, grads) {
      const x = kernelInputs(ctx.inputs, ctx.attrs.hidden);
      const [gO, gW1, gW2, gS1, gS2] = grads;
      const opt = (g: Tensor | null | undefined) => (g ? arr(g) : undefined);
      const g = titansMlpBackward(
        x,
        {
          dO: gO ? arr(gO) : allocLike(x.q, x.q.length),
          dW1: opt(gW1),
          dW2: opt(gW2),
          dS1: opt(gS1),
          dS2: opt(gS2),
        },
        ctx.attrs,
      );
      return [g.dq, g.dk, g.dv, g.dTheta, g.dEta, g.dAlpha, g.dW1, g.dW2, g.dS1, g.dS2].map((a, i) =>
        adoptOutput(a, ctx.inputs[i]!.shape),
      );
    },
  },
});

/** Runs a Titans MLP memory over whole chunks in one fused kernel call, with autograd. */
export function fusedTitansMlp(inputs: Tensor[], attrs: FusedTitansAttrs): Tensor[] {
  return op(inputs, attrs) as Tensor[];
}
