/**
 * The fused gated-delta-rule op: the native chunked WY kernels of `kernels/delta-rule`
 * (forward and backward) registered through @nl/tensor's `defineOp`, so the matrix memories can
 * run a whole sequence in one native call with autograd. Inputs q, k [B, T, H, Dk],
 * v [B, T, H, Dv], α, β [B, T, H], S0 [B, H, Dk, Dv]; outputs o [B, T, H, Dv], S_T [B, H, Dk, Dv].
 */
import { defineOp, fromTypedArray, zeros, type Tensor } from '@nl/tensor';
import { deltaRuleBackward, deltaRuleForward } from '../kernels/delta-rule/native.js';
import type { FloatArray } from '../kernels/shape.js';

/** Attributes of the fused op. */
export interface FusedDeltaAttrs extends Record<string, unknown> {
  chunkSize: number;
  erase: boolean;
}

const arr = (t: Tensor): FloatArray => t.dataSync() as FloatArray;

function shapeOf(q: Tensor, v: Tensor) {
  const [batch, seqLen, heads, dk] = q.shape as [number, number, number, number];
  return { batch, seqLen, heads, dk, dv: v.shape[3]! };
}

const op = defineOp<FusedDeltaAttrs>({
  name: 'memory.gatedDeltaRule',
  forward(ctx, inputs, attrs) {
    const [q, k, v, alpha, beta, s0] = inputs as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
    const shape = shapeOf(q, v);
    const r = deltaRuleForward(
      { q: arr(q), k: arr(k), v: arr(v), alpha: arr(alpha), beta: arr(beta), s0: arr(s0), shape },
      { chunkSize: attrs.chunkSize, erase: attrs.erase },
    );
    return [fromTypedArray(r.o, [...v.shape]), fromTypedArray(r.state, [...s0.shape])];
  },
  backward(ctx, [gO, gS]) {
    const [q, k, v, alpha, beta, s0] = ctx.inputs as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
    const shape = shapeOf(q, v);
    const dt = q.dtype as 'float32' | 'float64';
    const dO = gO ?? zeros([...v.shape], { dtype: dt });
    const dState = gS ?? zeros([...s0.shape], { dtype: dt });
    const g = deltaRuleBackward(
      { q: arr(q), k: arr(k), v: arr(v), alpha: arr(alpha), beta: arr(beta), s0: arr(s0), shape },
      { dO: arr(dO), dState: arr(dState) },
      { chunkSize: ctx.attrs.chunkSize, erase: ctx.attrs.erase },
    );
    return [g.dq, g.dk, g.dv, g.dAlpha, g.dBeta, g.dS0].map((a, i) =>
      fromTypedArray(a, [...ctx.inputs[i]!.shape]),
    );
  },
});

/**
 * Runs the gated delta rule (or gated linear attention with `erase: false`) through the native
 * chunked kernel, with autograd. Returns [o [B, T, H, Dv], S_T [B, H, Dk, Dv]].
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
