/**
 * Linear DGD on the fused gated-delta-rule kernel (shared/docs/kernels.md §5.3a, nested-learning.md
 * §4.3). Transposed, S = Wᵀ ∈ R^{Dk×Dv}, the rule of ref.ts is a gated delta rule
 *   S_t = α (I − β k kᵀ) S + β k v'ᵀ   with β = c·η/α, v' = (α/c)·v,
 *   c = 2 for the current-state gradient (the erase term appears twice; exact tiling), and
 *   c = 1 for the chunk-start gradient, run with the kernel's snapshot correction (v' − α S_ξᵀ k)
 *   and chunk size = the snapshot period (mini-batch semantics).
 * Requires α ≠ 0. Gradients map back by the chain rule:
 *   dη = c dβ / α,   dα = dα_δ − c η dβ / α² + (1/c) Σ_j dv'_j v_j,   dv = (α/c) dv',   dW0 = dS0ᵀ.
 */
import { allocLike } from '../alloc.js';
import { deltaRuleBackward, deltaRuleForward } from '../delta-rule/native.js';
import type { FloatArray } from '../shape.js';
import {
  checkDgdInputs,
  dgdOptions,
  type DgdLinearInputs,
  type DgdLinearOptions,
  type DgdLinearOutputs,
} from './ref.js';

/** Gradients of a linear-DGD call. */
export interface DgdLinearGrads<A extends FloatArray = FloatArray> {
  dq: A;
  dk: A;
  dv: A;
  dAlpha: A;
  dEta: A;
  /** dL/dW0 [B, H, Dv, Dk]. */
  dW0: A;
}

/** [B, H, R, C] → [B, H, C, R]. */
function transposeHeads<A extends FloatArray>(x: A, bh: number, r: number, c: number): A {
  const out = allocLike(x, x.length);
  for (let m = 0; m < bh; m++) {
    const off = m * r * c;
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[off + j * r + i] = x[off + i * c + j];
  }
  return out;
}

function toDeltaRule<A extends FloatArray>(op: string, x: DgdLinearInputs<A>, c: number) {
  checkDgdInputs(op, x);
  const { batch: B, seqLen: T, heads: H, dk, dv } = x.shape;
  const rows = B * T * H;
  const beta = allocLike(x.alpha, rows);
  const vp = allocLike(x.v, x.v.length);
  for (let r = 0; r < rows; r++) {
    const al = x.alpha[r];
    if (al === 0)
      throw new RangeError(
        `nl.${op}: alpha must be non-zero for the delta-rule mapping (β = 2η/α); alpha[${r}] is 0`,
      );
    beta[r] = (c * x.eta[r]) / al;
    for (let j = 0; j < dv; j++) vp[r * dv + j] = (al / c) * x.v[r * dv + j];
  }
  const s0 = x.w0 ? transposeHeads(x.w0, B * H, dv, dk) : undefined;
  return { q: x.q, k: x.k, v: vp, alpha: x.alpha, beta, s0, shape: x.shape };
}

/**
 * Linear DGD forward through the fused delta-rule kernel.
 *
 * @param x q, k [B, T, H, Dk]; v [B, T, H, Dv]; alpha (non-zero), eta [B, T, H]; optional w0 [B, H, Dv, Dk]
 * @param opts gradientAt ('current', default: exact tiling, chunkSize only changes speed; or
 *   'snapshot': gradient at the chunk-start memory, chunkSize = snapshot period) and chunkSize
 * @returns o [B, T, H, Dv] and the final memory w [B, H, Dv, Dk]
 */
export function dgdLinearForward<A extends FloatArray>(
  x: DgdLinearInputs<A>,
  opts: DgdLinearOptions = {},
): DgdLinearOutputs<A> {
  const op = 'dgdLinearForward';
  const { chunkSize, gradientAt } = dgdOptions(op, opts);
  const snapshot = gradientAt === 'snapshot';
  const y = deltaRuleForward(toDeltaRule(op, x, snapshot ? 1 : 2), { chunkSize, snapshot });
  const { batch: B, heads: H, dk, dv } = x.shape;
  return { o: y.o, w: transposeHeads(y.state, B * H, dk, dv) };
}

/**
 * Linear DGD backward: gradients of q, k, v, α, η and W0 given dL/do [B, T, H, Dv] and optional
 * dL/dW_T [B, H, Dv, Dk].
 */
export function dgdLinearBackward<A extends FloatArray>(
  x: DgdLinearInputs<A>,
  g: { dO: A; dW?: A },
  opts: DgdLinearOptions = {},
): DgdLinearGrads<A> {
  const op = 'dgdLinearBackward';
  const { chunkSize, gradientAt } = dgdOptions(op, opts);
  const snapshot = gradientAt === 'snapshot';
  const c = snapshot ? 1 : 2;
  const d = toDeltaRule(op, x, c);
  const { batch: B, seqLen: T, heads: H, dk, dv } = x.shape;
  const dState = g.dW ? transposeHeads(g.dW, B * H, dv, dk) : undefined;
  const gr = deltaRuleBackward(d, { dO: g.dO, dState }, { chunkSize, snapshot });
  const rows = B * T * H;
  const dAlpha = allocLike(x.alpha, rows);
  const dEta = allocLike(x.eta, rows);
  const dv_ = allocLike(x.v, x.v.length);
  for (let r = 0; r < rows; r++) {
    const al = x.alpha[r];
    let sv = 0;
    for (let j = 0; j < dv; j++) {
      sv += gr.dv[r * dv + j] * x.v[r * dv + j];
      dv_[r * dv + j] = (al / c) * gr.dv[r * dv + j];
    }
    dEta[r] = (c * gr.dBeta[r]) / al;
    dAlpha[r] = gr.dAlpha[r] - (c * x.eta[r] * gr.dBeta[r]) / (al * al) + sv / c;
  }
  return { dq: gr.dq, dk: gr.dk, dv: dv_, dAlpha, dEta, dW0: transposeHeads(gr.dS0, B * H, dk, dv) };
}
