/**
 * Titans linear memory — reference backward (hand-derived reverse recurrence, float64).
 *
 * Forward per token (types.ts): e = M' k − v (M' = chunk-start snapshot), S_t = η S_{t−1} − θ e kᵀ,
 * M_t = (1−α) M_{t−1} + S_t, o = M_t q (or M_{t−1} q). Reverse, with dM = dL/dM_t, dSn = η_{t+1} dL/dS_{t+1}:
 *   (read after) dM += do qᵀ, dq = M_tᵀ do
 *   dS = dSn + dM;   dα = −⟨M_{t−1}, dM⟩;   dη = ⟨S_{t−1}, dS⟩;   dθ = −eᵀ dS k
 *   de = −θ dS k;    dk = −θ dSᵀ e + M'ᵀ de;   dv = −de;   dM' += de kᵀ
 *   dL/dM_{t−1} = (1−α) dM (+ do qᵀ when reading before);   dSn ← η dS
 * At a chunk's first token the snapshot's accumulated gradient dM' joins dL/dM_{t−1}.
 * Per-token states are recomputed and kept for one (batch, head): 2 (T+1) Dv Dk floats.
 */
import { readMemory, titansLinearStep } from './ref.js';
import {
  checkTitansGradOutputs,
  checkTitansInputs,
  titansOptions,
  type TitansLinearGradOutputs,
  type TitansLinearGrads,
  type TitansLinearInputs,
  type TitansLinearOptions,
} from './types.js';

/**
 * Gradients of the Titans linear memory with respect to q, k, v, θ, η, α, M0 and S0.
 *
 * @param x the forward inputs; @param g dO [B, T, H, Dv], optional dM, dS [B, H, Dv, Dk]
 * @param opts the forward's chunkSize and readAfterWrite
 * @returns dq, dk [B, T, H, Dk]; dv [B, T, H, Dv]; dTheta, dEta, dAlpha [B, T, H]; dM0, dS0 [B, H, Dv, Dk]
 */
export function titansLinearBackwardReference(
  x: TitansLinearInputs,
  g: TitansLinearGradOutputs,
  opts: TitansLinearOptions = {},
): TitansLinearGrads<Float64Array> {
  const op = 'titansLinearBackward';
  const { chunkSize: C, readAfterWrite } = titansOptions(op, opts);
  checkTitansInputs(op, x);
  checkTitansGradOutputs(op, x.shape, g);
  const { batch: B, seqLen: T, heads: H, dk, dv } = x.shape;
  const { q, k, v, theta, eta, alpha } = x;
  const n = dv * dk;
  const rows = B * T * H;
  const out: TitansLinearGrads<Float64Array> = {
    dq: new Float64Array(rows * dk),
    dk: new Float64Array(rows * dk),
    dv: new Float64Array(rows * dv),
    dTheta: new Float64Array(rows),
    dEta: new Float64Array(rows),
    dAlpha: new Float64Array(rows),
    dM0: new Float64Array(B * H * n),
    dS0: new Float64Array(B * H * n),
  };
  const Ms = new Float64Array((T + 1) * n); // M_0 .. M_T
  const Ss = new Float64Array((T + 1) * n); // S_0 .. S_T
  const e = new Float64Array(dv),
    de = new Float64Array(dv),
    tmp = new Float64Array(dk);
  const dM = new Float64Array(n),
    dS = new Float64Array(n),
    dSn = new Float64Array(n),
    dSnap = new Float64Array(n);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const off = (b * H + h) * n;
      for (let i = 0; i < n; i++) {
        Ms[i] = x.m0 ? x.m0[off + i] : 0;
        Ss[i] = x.s0 ? x.s0[off + i] : 0;
      }
      for (let t = 0; t < T; t++) {
        const row = (b * T + t) * H + h;
        const t0 = t - (t % C);
        const M = Ms.subarray((t + 1) * n, (t + 2) * n);
        const S = Ss.subarray((t + 1) * n, (t + 2) * n);
        M.set(Ms.subarray(t * n, (t + 1) * n));
        S.set(Ss.subarray(t * n, (t + 1) * n));
        const snap = Ms.subarray(t0 * n, (t0 + 1) * n);
        titansLinearStep(M, S, snap, k, row * dk, v, row * dv, theta[row], eta[row], alpha[row], dk, dv, e);
      }
      for (let i = 0; i < n; i++) {
        dM[i] = g.dM ? g.dM[off + i] : 0;
        dSn[i] = g.dS ? g.dS[off + i] : 0;
      }
      dSnap.fill(0);
      for (let t = T - 1; t >= 0; t--) {
        const row = (b * T + t) * H + h;
        const qo = row * dk,
          ko = row * dk,
          vo = row * dv;
        const t0 = t - (t % C);
        const Mprev = Ms.subarray(t * n, (t + 1) * n);
        const Mcur = Ms.subarray((t + 1) * n, (t + 2) * n);
        const Sprev = Ss.subarray(t * n, (t + 1) * n);
        const snap = Ms.subarray(t0 * n, (t0 + 1) * n);
        const th = theta[row],
          et = eta[row],
          al = alpha[row];
        const readM = readAfterWrite ? Mcur : Mprev;
        // dq = readMᵀ do
        tmp.fill(0);
        for (let i = 0; i < dv; i++) for (let p = 0; p < dk; p++) tmp[p] += readM[i * dk + p] * g.dO[vo + i];
        out.dq.set(tmp, qo);
        if (readAfterWrite)
          for (let i = 0; i < dv; i++)
            for (let p = 0; p < dk; p++) dM[i * dk + p] += g.dO[vo + i] * q[qo + p];
        // e = M' k − v (recomputed)
        readMemory(snap, k, ko, dk, dv, e, 0);
        for (let i = 0; i < dv; i++) e[i] -= v[vo + i];
        let dAl = 0,
          dEt = 0,
          dTh = 0;
        for (let i = 0; i < n; i++) {
          dS[i] = dSn[i] + dM[i];
          dAl -= Mprev[i] * dM[i];
          dEt += Sprev[i] * dS[i];
        }
        tmp.fill(0);
        for (let i = 0; i < dv; i++) {
          let s = 0;
          for (let p = 0; p < dk; p++) {
            s += dS[i * dk + p] * k[ko + p];
            tmp[p] += dS[i * dk + p] * e[i];
          }
          dTh -= e[i] * s;
          de[i] = -th * s;
        }
        for (let p = 0; p < dk; p++) {
          let s = -th * tmp[p];
          for (let i = 0; i < dv; i++) s += snap[i * dk + p] * de[i];
          out.dk[ko + p] = s;
        }
        for (let i = 0; i < dv; i++) {
          out.dv[vo + i] = -de[i];
          for (let p = 0; p < dk; p++) dSnap[i * dk + p] += de[i] * k[ko + p];
        }
        out.dAlpha[row] = dAl;
        out.dEta[row] = dEt;
        out.dTheta[row] = dTh;
        for (let i = 0; i < n; i++) {
          dSn[i] = et * dS[i];
          dM[i] = (1 - al) * dM[i];
        }
        if (!readAfterWrite)
          for (let i = 0; i < dv; i++)
            for (let p = 0; p < dk; p++) dM[i * dk + p] += g.dO[vo + i] * q[qo + p];
        if (t === t0) {
          for (let i = 0; i < n; i++) dM[i] += dSnap[i];
          dSnap.fill(0);
        }
      }
      out.dM0.set(dM, off);
      out.dS0.set(dSn, off);
    }
  }
  return out;
}
