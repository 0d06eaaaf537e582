/**
 * The fused gated-delta-rule op: the native chunked WY kernels of `kernels/delta-rule` (forward
 * and backward) registered through @nl/tensor's `defineOp` as the 'cpu' kernels
 * `memory.gatedDeltaRule.forward` / `.backward` (so they also run on 'sim', and a CUDA backend adds
 * its own with `registerKernel`). Inputs q, k [B, T, H, Dk], v [B, T, H, Dv], α, β [B, T, H],
 * S0 [B, H, Dk, Dv]; outputs o [B, T, H, Dv], S_T [B, H, Dk, Dv].
 */
import { defineOp, type Tensor } from '@nl/tensor';
import { adoptOutput, elementsOf } from '@nl/tensor/internal';
import { deltaRuleBackward, deltaRuleForward } from '../kernels/delta-rule/native.js';
import { allocLike } from '../kernels/alloc.js';
import type { FloatArray } from '../kernels/shape.js';
import './fused-delta-cuda.js';

/** Attributes of the fused op. */
export interface FusedDeltaAttrs extends Record<string, unknown> {
  chunkSize: number;
  erase: boolean;
}

/** Opens a tensor inside the kernel (row-major elements, no transfer). */
const arr = (t: Tensor): FloatArray => elementsOf(t) as FloatArray;

function kernelInputs(ins: readonly Tensor[]) {
  const [q, k, v, alpha, beta, s0] = ins as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
  const [batch, seqLen, heads, dk] = q.shape as [number, number, number, number];
  const shape = { batch, seqLen, heads, dk, dv: v.shape[3]! };
  return { q: arr(q), k: arr(k), v: arr(v), alpha: arr(alpha), beta: arr(beta), s0: arr(s0), shape };
}

const op = defineOp<FusedDeltaAttrs>({
  name: 'memory.gatedDeltaRule',
  forward: {
    cpu(_ctx, inputs, attrs) {
      const r = deltaRuleForward(kernelInputs(inputs), { chunkSize: attrs.chunkSize, erase: attrs.erase });
      return [adoptOutput(r.o, inputs[2]!.shape), adoptOutput(r.state, inputs[5]!.shape)];
    },
  },
  backward: {
    cpu(ctx, [gO, gS]) {
      const x = kernelInputs(ctx.inputs);
      const dO = gO ? arr(gO) : allocLike(x.q, x.v.length);
      const g = deltaRuleBackward(
        x,
        { dO, dState: gS ? arr(gS) : undefined },
        { chunkSize: ctx.attrs.chunkSize, erase: ctx.attrs.erase },
      );
      return [g.dq, g.dk, g.dv, g.dAlpha, g.dBeta, g.dS0].map((a, i) => adoptOutput(a, ctx.inputs[i]!.shape));
    },
  },
});

/**
 * Runs the gated delta rule (or gated linear attention with `erase: false`) through the fused
 * kernel of the inputs' device, with autograd. Returns [o [B, T, H, Dv], S_T [B, H, Dk, Dv]].
 */
export function fusedGatedDelta(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  alpha: Tensor,
  beta: Tensor,
  s0: Tensor,
  attrs: FusedDeltaAttrs,
): [Tensor, Tensor] {
  return op([q, k, v, alpha, beta, s0], attrs) as [Tensor, Tensor];
}
