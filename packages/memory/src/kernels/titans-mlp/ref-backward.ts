/**
 * Titans MLP memory — reference backward (hand-derived reverse recurrence, float64). Forward in ref.ts.
 *
 * Reverse per token, with dW_ℓ = dL/dW_ℓ,t, dSn_ℓ = η_{t+1} dL/dS_ℓ,t+1 and snapshot adjoints dW'_ℓ:
 *   read o = q + W1 z, z = σ(r), r = W2 q:  dW1 += do zᵀ, dr = (W1ᵀ do) ⊙ σ'(r), dW2 += dr qᵀ, dq = do + W2ᵀ dr
 *   per layer:  dS = dSn + dW,  dα −= ⟨W_{t−1}, dW⟩,  dη += ⟨S_{t−1}, dS⟩,  dθ −= ⟨u, dS⟩,  du = −θ dS,
 *               dL/dW_{t−1} = (1−α) dW,  dSn ← η dS
 *   u1 = e aᵀ:  de += du1 a,  da += du1ᵀ e        u2 = g kᵀ:  dg = du2 k,  dk += du2ᵀ g
 *   g = c ⊙ σ'(p), c = W1'ᵀ e:  dc = dg ⊙ σ'(p),  dp += dg ⊙ c ⊙ σ''(p),  dW1' += e dcᵀ,  de += W1' dc
 *   e = k + W1' a − v:  dk += de,  dv = −de,  dW1' += de aᵀ,  da += W1'ᵀ de
 *   a = σ(p):  dp += da ⊙ σ'(p)          p = W2' k:  dW2' += dp kᵀ,  dk += W2'ᵀ dp
 * At a chunk's first token the snapshot adjoints join dL/dW_{t−1}. States kept per (batch, head).
 */
import {
  checkTitansMlp,
  innerFactors,
  matVec,
  silu,
  siluGrad,
  siluGrad2,
  type TitansMlpInputs,
  type TitansMlpOptions,
} from './ref.js';

/** Upstream gradients: dO [B, T, H, D] and optional gradients of the final w1, w2, s1, s2. */
export interface TitansMlpGradOutputs {
  dO: ArrayLike<number>;
  dW1?: ArrayLike<number>;
  dW2?: ArrayLike<number>;
  dS1?: ArrayLike<number>;
  dS2?: ArrayLike<number>;
}

/** Gradients of every input. */
export interface TitansMlpGrads {
  dq: Float64Array;
  dk: Float64Array;
  dv: Float64Array;
  dTheta: Float64Array;
  dEta: Float64Array;
  dAlpha: Float64Array;
  dW1: Float64Array;
  dW2: Float64Array;
  dS1: Float64Array;
  dS2: Float64Array;
}

/**
 * Gradients of the Titans MLP memory with respect to q, k, v, θ, η, α and the initial w1, w2, s1, s2.
 *
 * @param x the forward inputs; @param g dO and optional final-state gradients; @param opts as the forward
 */
export function titansMlpBackwardReference(
  x: TitansMlpInputs,
  g: TitansMlpGradOutputs,
  opts: TitansMlpOptions = {},
): TitansMlpGrads {
  const { chunkSize: C, readAfterWrite } = checkTitansMlp('titansMlpBackward', x, opts);
  const { batch: B, seqLen: T, heads: H, dk: D } = x.shape;
  const Dh = x.hidden,
    n = D * Dh,
    rows = B * T * H;
  if (g.dO.length !== rows * D) {
    throw new RangeError(`nl.titansMlpBackward: dO must have ${rows * D} elements, got ${g.dO.length}`);
  }
  const out: TitansMlpGrads = {
    dq: new Float64Array(rows * D),
    dk: new Float64Array(rows * D),
    dv: new Float64Array(rows * D),
    dTheta: new Float64Array(rows),
    dEta: new Float64Array(rows),
    dAlpha: new Float64Array(rows),
    dW1: new Float64Array(B * H * n),
    dW2: new Float64Array(B * H * n),
    dS1: new Float64Array(B * H * n),
    dS2: new Float64Array(B * H * n),
  };
  // per-token states W1, W2, S1, S2 at 0..T for one (b, h)
  const W1s = new Float64Array((T + 1) * n),
    W2s = new Float64Array((T + 1) * n);
  const S1s = new Float64Array((T + 1) * n),
    S2s = new Float64Array((T + 1) * n);
  const p = new Float64Array(Dh),
    a = new Float64Array(Dh),
    c = new Float64Array(Dh),
    gg = new Float64Array(Dh);
  const e = new Float64Array(D),
    r = new Float64Array(Dh),
    z = new Float64Array(Dh);
  const dW1 = new Float64Array(n),
    dW2 = new Float64Array(n),
    dSn1 = new Float64Array(n),
    dSn2 = new Float64Array(n);
  const dS1 = new Float64Array(n),
    dS2 = new Float64Array(n),
    dW1p = new Float64Array(n),
    dW2p = new Float64Array(n);
  const de = new Float64Array(D),
    da = new Float64Array(Dh),
    dp = new Float64Array(Dh),
    dg = new Float64Array(Dh);
  const dc = new Float64Array(Dh),
    dz = new Float64Array(Dh),
    dr = new Float64Array(Dh);
  const { q, k, v, theta, eta, alpha } = x;
  const dO = g.dO;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const off = (b * H + h) * n;
      for (let i = 0; i < n; i++) {
        W1s[i] = x.w1[off + i];
        W2s[i] = x.w2[off + i];
        S1s[i] = x.s1 ? x.s1[off + i] : 0;
        S2s[i] = x.s2 ? x.s2[off + i] : 0;
      }
      for (let t = 0; t < T; t++) {
        const row = (b * T + t) * H + h;
        const t0 = t - (t % C);
        innerFactors(
          W1s.subarray(t0 * n, (t0 + 1) * n),
          W2s.subarray(t0 * n, (t0 + 1) * n),
          D,
          Dh,
          k,
          row * D,
          v,
          row * D,
          p,
          a,
          e,
          c,
          gg,
        );
        const th = theta[row],
          et = eta[row],
          keep = 1 - alpha[row];
        for (let i = 0; i < D; i++)
          for (let j = 0; j < Dh; j++) {
            const i1 = i * Dh + j,
              i2 = j * D + i;
            S1s[(t + 1) * n + i1] = et * S1s[t * n + i1] - th * e[i] * a[j];
            W1s[(t + 1) * n + i1] = keep * W1s[t * n + i1] + S1s[(t + 1) * n + i1];
            S2s[(t + 1) * n + i2] = et * S2s[t * n + i2] - th * gg[j] * k[row * D + i];
            W2s[(t + 1) * n + i2] = keep * W2s[t * n + i2] + S2s[(t + 1) * n + i2];
          }
      }
      for (let i = 0; i < n; i++) {
        dW1[i] = g.dW1 ? g.dW1[off + i] : 0;
        dW2[i] = g.dW2 ? g.dW2[off + i] : 0;
        dSn1[i] = g.dS1 ? g.dS1[off + i] : 0;
        dSn2[i] = g.dS2 ? g.dS2[off + i] : 0;
      }
      dW1p.fill(0);
      dW2p.fill(0);
      // the read o = q + W1 σ(W2 q) with weights (W1r, W2r): accumulates into dW1, dW2, writes dq
      const readBack = (row: number, W1r: Float64Array, W2r: Float64Array) => {
        matVec(W2r, Dh, D, q, row * D, r);
        for (let j = 0; j < Dh; j++) z[j] = silu(r[j]);
        dz.fill(0);
        for (let i = 0; i < D; i++) {
          const doi = dO[row * D + i];
          for (let j = 0; j < Dh; j++) {
            dW1[i * Dh + j] += doi * z[j];
            dz[j] += W1r[i * Dh + j] * doi;
          }
        }
        for (let j = 0; j < Dh; j++) dr[j] = dz[j] * siluGrad(r[j]);
        for (let i = 0; i < D; i++) {
          let s = dO[row * D + i];
          for (let j = 0; j < Dh; j++) {
            dW2[j * D + i] += dr[j] * q[row * D + i];
            s += W2r[j * D + i] * dr[j];
          }
          out.dq[row * D + i] = s;
        }
      };
      for (let t = T - 1; t >= 0; t--) {
        const row = (b * T + t) * H + h;
        const t0 = t - (t % C);
        const W1c = W1s.subarray((t + 1) * n, (t + 2) * n),
          W2c = W2s.subarray((t + 1) * n, (t + 2) * n);
        const W1p = W1s.subarray(t * n, (t + 1) * n),
          W2p = W2s.subarray(t * n, (t + 1) * n);
        const S1p = S1s.subarray(t * n, (t + 1) * n),
          S2p = S2s.subarray(t * n, (t + 1) * n);
        const W1snap = W1s.subarray(t0 * n, (t0 + 1) * n),
          W2snap = W2s.subarray(t0 * n, (t0 + 1) * n);
        if (readAfterWrite) readBack(row, W1c, W2c);
        innerFactors(W1snap, W2snap, D, Dh, k, row * D, v, row * D, p, a, e, c, gg);
        const th = theta[row],
          et = eta[row],
          keep = 1 - alpha[row];
        let dAl = 0,
          dEt = 0,
          dTh = 0;
        de.fill(0);
        da.fill(0);
        dg.fill(0);
        for (let i = 0; i < D; i++) {
          const ki = k[row * D + i];
          let dki = 0;
          for (let j = 0; j < Dh; j++) {
            const i1 = i * Dh + j,
              i2 = j * D + i;
            dS1[i1] = dSn1[i1] + dW1[i1];
            dS2[i2] = dSn2[i2] + dW2[i2];
            dAl -= W1p[i1] * dW1[i1] + W2p[i2] * dW2[i2];
            dEt += S1p[i1] * dS1[i1] + S2p[i2] * dS2[i2];
            dTh -= e[i] * a[j] * dS1[i1] + gg[j] * ki * dS2[i2];
            const du1 = -th * dS1[i1],
              du2 = -th * dS2[i2];
            de[i] += du1 * a[j];
            da[j] += du1 * e[i];
            dg[j] += du2 * ki;
            dki += du2 * gg[j];
            dSn1[i1] = et * dS1[i1];
            dSn2[i2] = et * dS2[i2];
            dW1[i1] *= keep;
            dW2[i2] *= keep;
          }
          out.dk[row * D + i] = dki;
        }
        // g = c ⊙ σ'(p), c = W1'ᵀ e
        for (let j = 0; j < Dh; j++) {
          dc[j] = dg[j] * siluGrad(p[j]);
          dp[j] = dg[j] * c[j] * siluGrad2(p[j]);
        }
        for (let i = 0; i < D; i++) {
          let s = 0;
          for (let j = 0; j < Dh; j++) {
            dW1p[i * Dh + j] += e[i] * dc[j];
            s += W1snap[i * Dh + j] * dc[j];
          }
          de[i] += s;
        }
        // e = k + W1' a − v
        for (let i = 0; i < D; i++) {
          out.dk[row * D + i] += de[i];
          out.dv[row * D + i] = -de[i];
          for (let j = 0; j < Dh; j++) {
            dW1p[i * Dh + j] += de[i] * a[j];
            da[j] += W1snap[i * Dh + j] * de[i];
          }
        }
        // a = σ(p), p = W2' k
        for (let j = 0; j < Dh; j++) dp[j] += da[j] * siluGrad(p[j]);
        for (let j = 0; j < Dh; j++)
          for (let i = 0; i < D; i++) {
            dW2p[j * D + i] += dp[j] * k[row * D + i];
            out.dk[row * D + i] += W2snap[j * D + i] * dp[j];
          }
        out.dAlpha[row] = dAl;
        out.dEta[row] = dEt;
        out.dTheta[row] = dTh;
        if (!readAfterWrite) readBack(row, W1p, W2p);
        if (t === t0) {
          for (let i = 0; i < n; i++) {
            dW1[i] += dW1p[i];
            dW2[i] += dW2p[i];
          }
          dW1p.fill(0);
          dW2p.fill(0);
        }
      }
      out.dW1.set(dW1, off);
      out.dW2.set(dW2, off);
      out.dS1.set(dSn1, off);
      out.dS2.set(dSn2, off);
    }
  }
  return out;
}
