/**
 * Linear Delta Gradient Descent (DGD, shared/docs/kernels.md §5.3a; nested-learning.md §2.3, §4.3) —
 * token-by-token reference, exact per-token rule with the current-state gradient:
 *   W_t = W_{t−1} (α_t I − η_t k_t k_tᵀ) − η_t ∇_W ½‖W_{t−1} k_t − v_t‖²
 *       = W_{t−1} (α_t I − η_t k_t k_tᵀ) − η_t (W_{t−1} k_t − v_t) k_tᵀ          W ∈ R^{Dv×Dk}
 *   o_t = W_t q_t
 * With `gradientAt: 'snapshot'` (Hope's chunked rule, nested-learning.md §4.2–4.3, A10) the gradient
 * is taken at the chunk-start memory W_ξ instead: − η_t (W_ξ k_t − v_t) k_tᵀ, ξ = start of t's chunk
 * of `chunkSize` tokens (mini-batch semantics: the result depends on the chunk size).
 * Written literally (no reuse of the delta-rule code) so it can check the mapping in native.ts.
 */
import {
  checkArray,
  checkChunkSize,
  checkFinite,
  checkShape,
  type FloatArray,
  type SeqShape,
} from '../shape.js';

/** Where the inner gradient is taken. */
export interface DgdLinearOptions {
  /** 'current' (default): W_{t−1}, exact per-token DGD; 'snapshot': the chunk-start W_ξ. */
  gradientAt?: 'current' | 'snapshot';
  /** Chunk size: the snapshot period for 'snapshot'; only speed for 'current'. Default 64. */
  chunkSize?: number;
}

/** Resolved options (defaults applied, checked). */
export function dgdOptions(op: string, opts: DgdLinearOptions): Required<DgdLinearOptions> {
  const chunkSize = opts.chunkSize ?? 64;
  checkChunkSize(op, chunkSize);
  const gradientAt = opts.gradientAt ?? 'current';
  if (gradientAt !== 'current' && gradientAt !== 'snapshot') {
    throw new RangeError(`nl.${op}: gradientAt must be 'current' or 'snapshot', got ${String(gradientAt)}`);
  }
  return { chunkSize, gradientAt };
}

/** Inputs of a linear-DGD call. Gates: α (decay) and η (step size), [B, T, H]. */
export interface DgdLinearInputs<A extends FloatArray = FloatArray> {
  /** Queries [B, T, H, Dk]. */
  q: A;
  /** Keys [B, T, H, Dk]. */
  k: A;
  /** Values (targets) [B, T, H, Dv]. */
  v: A;
  /** Decay α [B, T, H]. */
  alpha: A;
  /** Step size η [B, T, H]. */
  eta: A;
  /** Initial memory W0 [B, H, Dv, Dk]; zeros when omitted. */
  w0?: A;
  shape: SeqShape;
}

/** Forward results: outputs [B, T, H, Dv] and the final memory W_T [B, H, Dv, Dk]. */
export interface DgdLinearOutputs<A extends FloatArray = FloatArray> {
  o: A;
  w: A;
}

/** Checks every input of a linear-DGD call. */
export function checkDgdInputs(op: string, x: DgdLinearInputs): void {
  checkShape(op, x.shape);
  const { batch: B, seqLen: T, heads: H, dk, dv } = x.shape;
  checkArray(op, 'q', x.q, [B, T, H, dk]);
  checkArray(op, 'k', x.k, [B, T, H, dk]);
  checkArray(op, 'v', x.v, [B, T, H, dv]);
  checkArray(op, 'alpha', x.alpha, [B, T, H]);
  checkArray(op, 'eta', x.eta, [B, T, H]);
  if (x.w0 !== undefined) checkArray(op, 'w0', x.w0, [B, H, dv, dk]);
  checkFinite(op, 'alpha', x.alpha, x.shape);
  checkFinite(op, 'eta', x.eta, x.shape);
}

/**
 * Linear DGD forward, token by token, in float64.
 *
 * @param x q, k [B, T, H, Dk]; v [B, T, H, Dv]; alpha, eta [B, T, H]; optional w0 [B, H, Dv, Dk]
 * @param opts gradientAt ('current' | 'snapshot') and chunkSize
 * @returns o [B, T, H, Dv] and the final memory w [B, H, Dv, Dk]
 */
export function dgdLinearReference(
  x: DgdLinearInputs,
  opts: DgdLinearOptions = {},
): DgdLinearOutputs<Float64Array> {
  const { chunkSize: C, gradientAt } = dgdOptions('dgdLinear', opts);
  checkDgdInputs('dgdLinear', x);
  const { batch: B, seqLen: T, heads: H, dk, dv } = x.shape;
  const n = dv * dk;
  const o = new Float64Array(B * T * H * dv);
  const wOut = new Float64Array(B * H * n);
  const W = new Float64Array(n);
  const Wk = new Float64Array(dv);
  const Gk = new Float64Array(dv); // (gradient point) k
  const Wsnap = new Float64Array(n);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < n; i++) W[i] = x.w0 ? x.w0[(b * H + h) * n + i] : 0;
      for (let t = 0; t < T; t++) {
        const row = (b * T + t) * H + h;
        const kk = (p: number) => x.k[row * dk + p];
        if (t % C === 0) Wsnap.set(W);
        const Wg = gradientAt === 'snapshot' ? Wsnap : W;
        for (let i = 0; i < dv; i++) {
          let s = 0,
            sg = 0;
          for (let p = 0; p < dk; p++) {
            s += W[i * dk + p] * kk(p);
            sg += Wg[i * dk + p] * kk(p);
          }
          Wk[i] = s; // W_{t−1} k
          Gk[i] = sg; // W_{t−1} k or W_ξ k
        }
        const al = x.alpha[row],
          et = x.eta[row];
        // W (αI − η k kᵀ) = αW − η (W k) kᵀ ; gradient term −η (W_g k − v) kᵀ
        for (let i = 0; i < dv; i++) {
          for (let p = 0; p < dk; p++) {
            W[i * dk + p] =
              al * W[i * dk + p] - et * Wk[i] * kk(p) - et * (Gk[i] - x.v[row * dv + i]) * kk(p);
          }
        }
        for (let i = 0; i < dv; i++) {
          let s = 0;
          for (let p = 0; p < dk; p++) s += W[i * dk + p] * x.q[row * dk + p];
          o[row * dv + i] = s;
        }
      }
      wOut.set(W, (b * H + h) * n);
    }
  }
  return { o, w: wOut };
}
