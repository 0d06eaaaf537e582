/**
 * The fused Titans linear-memory op: the native mini-batch chunk kernels of `kernels/titans-linear`
 * (forward in closed form per chunk, backward from chunk-boundary states) registered through
 * `defineOp` as the 'cpu' kernels `memory.titansLinear.forward` / `.backward` (they also run on
 * 'sim'); ./fused-titans-linear-cuda.ts adds the 'cuda' kernels. Inputs q, k [B, T, H, Dk],
 * v [B, T, H, Dv], θ, η, α [B, T, H], M0, S0 [B, H, Dv, Dk]; outputs o [B, T, H, Dv] and the final
 * M, S [B, H, Dv, Dk]. The call starts a new chunk at token 0.
 *
 * @example
 *   const [o, m, s] = fusedTitansLinear([q, k, v, theta, eta, alpha, m0, s0], { chunkSize: 16, readAfterWrite: true });
 */
import { defineOp, type Tensor } from '@nl/tensor';
import { adoptOutput, elementsOf } from '@nl/tensor/internal';
import { allocLike } from '../kernels/alloc.js';
import { titansLinearBackward, titansLinearForward } from '../kernels/titans-linear/native.js';
import type { FloatArray } from '../kernels/shape.js';
import './fused-titans-linear-cuda.js';

/** Attributes of the fused Titans linear op. */
export interface FusedTitansLinearAttrs extends Record<string, unknown> {
  chunkSize: number;
  readAfterWrite: boolean;
}

/** Opens a tensor inside the kernel (row-major elements, no transfer). */
const arr = (t: Tensor): FloatArray => elementsOf(t) as FloatArray;

/**
 * The six per-token inputs of a Titans memory (q, k, v, θ, η, α) opened for a kernel, with the
 * shape from q [B, T, H, Dk] and v [B, T, H, Dv]. Also used by ./fused-titans.ts.
 */
export function titansTokenInputs(ins: readonly Tensor[]) {
  const [q, k, v, theta, eta, alpha] = ins as Tensor[];
  const [batch, seqLen, heads, dk] = q!.shape as [number, number, number, number];
  return {
    q: arr(q!),
    k: arr(k!),
    v: arr(v!),
    theta: arr(theta!),
    eta: arr(eta!),
    alpha: arr(alpha!),
    shape: { batch, seqLen, heads, dk, dv: v!.shape[3]! },
  };
}

function kernelInputs(ins: readonly Tensor[]) {
  return { ...titansTokenInputs(ins), m0: arr(ins[6]!), s0: arr(ins[7]!) };
}

const op = defineOp<FusedTitansLinearAttrs>({
  name: 'memory.titansLinear',
  forward: {
    cpu(_ctx, inputs, attrs) {
      const r = titansLinearForward(kernelInputs(inputs), attrs);
      const [, , v, , , , m0] = inputs as Tensor[];
      return [adoptOutput(r.o, v!.shape), adoptOutput(r.m, m0!.shape), adoptOutput(r.s, m0!.shape)];
    },
  },
  backward: {
    cpu(ctx, [gO, gM, gS]) {
      const x = kernelInputs(ctx.inputs);
      const opt = (g: Tensor | null | undefined) => (g ? arr(g) : undefined);
      const g = titansLinearBackward(
        x,
        { dO: gO ? arr(gO) : allocLike(x.v, x.v.length), dM: opt(gM), dS: opt(gS) },
        ctx.attrs,
      );
      return [g.dq, g.dk, g.dv, g.dTheta, g.dEta, g.dAlpha, g.dM0, g.dS0].map((a, i) =>
        adoptOutput(a, ctx.inputs[i]!.shape),
      );
    },
  },
});

/**
 * Runs a Titans linear memory over a sequence in one fused kernel call, with autograd.
 *
 * @param inputs [q, k, v, theta, eta, alpha, m0, s0] (shapes above; one float dtype)
 * @param attrs chunkSize (mini-batch C) and readAfterWrite
 * @returns [o, m, s]
 */
export function fusedTitansLinear(inputs: Tensor[], attrs: FusedTitansLinearAttrs): [Tensor, Tensor, Tensor] {
  return op(inputs, attrs) as [Tensor, Tensor, Tensor];
}
