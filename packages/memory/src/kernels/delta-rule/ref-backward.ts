/**
 * Gated delta rule — token-by-token reference backward (hand-derived reverse recurrence).
 *
 * Forward step (ref.ts):  a = S_{t−1}ᵀ k,  δ = β (v − α a),  S_t = α S_{t−1} + k δᵀ,  o = S_tᵀ q.
 * Reverse step, with G = dL/dS_t (already holding every later contribution):
 *   G  += q doᵀ                    dq = S_t do
 *   dα  = ⟨S_{t−1}, G⟩ − β ⟨dδ, a⟩  dk = G δ + S_{t−1} da        dδ = Gᵀ k
 *   dβ  = ⟨dδ, v − α a⟩             dv = β dδ                     da = −α β dδ
 *   dL/dS_{t−1} = α G + k daᵀ
 * Without the erase term (erase = false) δ = β v: the a-terms vanish (da = 0).
 * With the snapshot correction the written value is v − α S_ξᵀ k (S_ξ = chunk-start state), so
 * also dα −= ⟨dv, S_ξᵀ k⟩, dk −= α S_ξ dv, and dL/dS_ξ −= α k dvᵀ joins G at the chunk start.
 * States are recomputed forward and kept for one (batch, head) at a time: (T+1)·Dk·Dv floats.
 */
import { deltaRuleStep, effectiveValue } from './ref.js';
import {
  checkDeltaRuleGradOutputs,
  checkDeltaRuleInputs,
  deltaRuleOptions,
  type DeltaRuleOptions,
  type DeltaRuleGradOutputs,
  type DeltaRuleGrads,
  type DeltaRuleInputs,
} from './types.js';

/**
 * Gradients of the gated delta rule with respect to q, k, v, α, β and S0, in float64.
 *
 * @param x the forward inputs (see {@link DeltaRuleInputs})
 * @param g dO [B, T, H, Dv] and optional dState [B, H, Dk, Dv]
 * @param opts the forward's snapshot and chunkSize
 * @returns dq, dk [B, T, H, Dk]; dv [B, T, H, Dv]; dAlpha, dBeta [B, T, H]; dS0 [B, H, Dk, Dv]
 */
export function deltaRuleBackwardReference(
  x: DeltaRuleInputs,
  g: DeltaRuleGradOutputs,
  opts: DeltaRuleOptions = {},
): DeltaRuleGrads<Float64Array> {
  const op = 'deltaRuleBackward';
  const { chunkSize: C, snapshot, erase } = deltaRuleOptions(op, opts);
  checkDeltaRuleInputs(op, x);
  checkDeltaRuleGradOutputs(op, x.shape, g);
  const { batch: B, seqLen: T, heads: H, dk, dv } = x.shape;
  const { q, k, v, alpha, beta, s0 } = x;
  const dO = g.dO;
  const n = dk * dv;
  const out: DeltaRuleGrads<Float64Array> = {
    dq: new Float64Array(B * T * H * dk),
    dk: new Float64Array(B * T * H * dk),
    dv: new Float64Array(B * T * H * dv),
    dAlpha: new Float64Array(B * T * H),
    dBeta: new Float64Array(B * T * H),
    dS0: new Float64Array(B * H * n),
  };
  const states = new Float64Array((T + 1) * n); // [T+1, Dk, Dv]: S_0 .. S_T
  const a = new Float64Array(dv);
  const delta = new Float64Array(dv);
  const dDelta = new Float64Array(dv);
  const da = new Float64Array(dv);
  const G = new Float64Array(n); // dL/dS_t
  const vEff = new Float64Array(dv);
  const u = new Float64Array(dv); // S_ξᵀ k
  const dSnap = new Float64Array(n); // dL/dS_ξ of the current chunk
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const sOff = (b * H + h) * n;
      // Forward: keep every state of this (batch, head).
      const S = states.subarray(0, n);
      if (s0) for (let i = 0; i < n; i++) S[i] = s0[sOff + i];
      else S.fill(0);
      for (let t = 0; t < T; t++) {
        const row = (b * T + t) * H + h;
        const next = states.subarray((t + 1) * n, (t + 2) * n);
        next.set(states.subarray(t * n, (t + 1) * n));
        const snap = snapshot ? states.subarray((t - (t % C)) * n, (t - (t % C) + 1) * n) : null;
        const [vv, vo] = effectiveValue(v, row * dv, snap, k, row * dk, alpha[row], dk, dv, vEff);
        deltaRuleStep(next, k, row * dk, vv, vo, alpha[row], beta[row], dk, dv, a, delta, erase);
      }
      // Reverse.
      if (g.dState) for (let i = 0; i < n; i++) G[i] = g.dState[sOff + i];
      else G.fill(0);
      dSnap.fill(0);
      for (let t = T - 1; t >= 0; t--) {
        const row = (b * T + t) * H + h;
        const qo = row * dk,
          ko = row * dk;
        const t0 = t - (t % C);
        const snap = snapshot ? states.subarray(t0 * n, (t0 + 1) * n) : null;
        const [vv, vo] = effectiveValue(v, row * dv, snap, k, ko, alpha[row], dk, dv, vEff);
        const Sprev = states.subarray(t * n, (t + 1) * n);
        const Scur = states.subarray((t + 1) * n, (t + 2) * n);
        const al = alpha[row],
          be = beta[row];
        // o = S_tᵀ q
        for (let i = 0; i < dk; i++) {
          let s = 0;
          for (let j = 0; j < dv; j++) {
            G[i * dv + j] += q[qo + i] * dO[row * dv + j];
            s += Scur[i * dv + j] * dO[row * dv + j];
          }
          out.dq[qo + i] = s;
        }
        // recompute a, δ
        a.fill(0);
        for (let i = 0; i < dk; i++) for (let j = 0; j < dv; j++) a[j] += Sprev[i * dv + j] * k[ko + i];
        const ea = erase ? al : 0; // α in the erase term, 0 without it
        for (let j = 0; j < dv; j++) delta[j] = be * (vv[vo + j] - ea * a[j]);
        // S_t = α S_{t−1} + k δᵀ
        let dAl = 0;
        dDelta.fill(0);
        for (let i = 0; i < dk; i++) {
          let s = 0;
          for (let j = 0; j < dv; j++) {
            const gij = G[i * dv + j];
            dAl += Sprev[i * dv + j] * gij;
            s += gij * delta[j];
            dDelta[j] += gij * k[ko + i];
          }
          out.dk[ko + i] = s;
        }
        // δ = β (v − α a)
        let dBe = 0;
        for (let j = 0; j < dv; j++) {
          dBe += dDelta[j] * (vv[vo + j] - ea * a[j]);
          if (erase) dAl -= be * dDelta[j] * a[j];
          out.dv[row * dv + j] = be * dDelta[j];
          da[j] = -ea * be * dDelta[j];
        }
        if (snap) {
          // written value v − α u with u = S_ξᵀ k; its gradient is out.dv (= β dδ)
          u.fill(0);
          for (let i = 0; i < dk; i++) for (let j = 0; j < dv; j++) u[j] += snap[i * dv + j] * k[ko + i];
          for (let j = 0; j < dv; j++) dAl -= out.dv[row * dv + j] * u[j];
          for (let i = 0; i < dk; i++) {
            let s = 0;
            for (let j = 0; j < dv; j++) {
              s += snap[i * dv + j] * out.dv[row * dv + j];
              dSnap[i * dv + j] -= al * k[ko + i] * out.dv[row * dv + j];
            }
            out.dk[ko + i] -= al * s;
          }
        }
        out.dAlpha[row] = dAl;
        out.dBeta[row] = dBe;
        // a = S_{t−1}ᵀ k ;  dL/dS_{t−1} = α G + k daᵀ
        for (let i = 0; i < dk; i++) {
          let s = 0;
          for (let j = 0; j < dv; j++) {
            s += Sprev[i * dv + j] * da[j];
            G[i * dv + j] = al * G[i * dv + j] + k[ko + i] * da[j];
          }
          out.dk[ko + i] += s;
        }
        if (snap && t === t0) {
          for (let i = 0; i < n; i++) G[i] += dSnap[i];
          dSnap.fill(0);
        }
      }
      out.dS0.set(G, sOff);
    }
  }
  return out;
}
