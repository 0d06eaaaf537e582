/**
 * Gated delta rule — token-by-token reference (the spec the fused kernel must match).
 *
 *   S_t = α_t (I − β_t k_t k_tᵀ) S_{t−1} + β_t k_t v_tᵀ,   o_t = S_tᵀ q_t
 * computed as  a_t = S_{t−1}ᵀ k_t,  δ_t = β_t (v_t − α_t a_t),  S_t = α_t S_{t−1} + k_t δ_tᵀ
 * (option erase = false: δ_t = β_t v_t, gated linear attention).
 * Plain float64 loops, one (batch, head) at a time. Readable first; speed is the native kernel's job.
 */
import type { FloatArray } from '../shape.js';
import {
  checkDeltaRuleInputs,
  deltaRuleOptions,
  type DeltaRuleInputs,
  type DeltaRuleOptions,
  type DeltaRuleOutputs,
} from './types.js';

/**
 * The value a token writes: v_t, or with the snapshot correction v_t − α S_ξᵀ k_t (into `out`).
 * Returns the array and offset to read it from.
 */
export function effectiveValue(
  v: FloatArray,
  vOff: number,
  snap: Float64Array | null, // S_ξ [Dk, Dv] or null
  k: FloatArray,
  kOff: number,
  alpha: number,
  dk: number,
  dv: number,
  out: Float64Array, // [Dv]
): [FloatArray, number] {
  if (snap === null) return [v, vOff];
  for (let j = 0; j < dv; j++) {
    let s = 0;
    for (let i = 0; i < dk; i++) s += snap[i * dv + j] * k[kOff + i];
    out[j] = v[vOff + j] - alpha * s;
  }
  return [out, 0];
}

/**
 * One token step on a single state S [Dk, Dv] (in place). Returns nothing; `a` and `delta`
 * ([Dv] scratch) hold a_t = S_{t−1}ᵀ k_t and δ_t on return.
 */
export function deltaRuleStep(
  S: Float64Array, // [Dk, Dv]
  k: FloatArray,
  kOff: number, // k_t = k[kOff .. kOff+Dk)
  v: FloatArray,
  vOff: number, // v_t = v[vOff .. vOff+Dv)
  alpha: number,
  beta: number,
  dk: number,
  dv: number,
  a: Float64Array, // [Dv] out
  delta: Float64Array, // [Dv] out
  erase = true, // false: no erase term (gated linear attention), δ = β v
): void {
  a.fill(0);
  for (let i = 0; i < dk; i++) {
    const ki = k[kOff + i];
    for (let j = 0; j < dv; j++) a[j] += S[i * dv + j] * ki;
  }
  const ea = erase ? alpha : 0;
  for (let j = 0; j < dv; j++) delta[j] = beta * (v[vOff + j] - ea * a[j]);
  for (let i = 0; i < dk; i++) {
    const ki = k[kOff + i];
    for (let j = 0; j < dv; j++) S[i * dv + j] = alpha * S[i * dv + j] + ki * delta[j];
  }
}

/**
 * Gated delta rule forward, token by token, in float64.
 *
 * @param x q, k [B, T, H, Dk]; v [B, T, H, Dv]; alpha, beta [B, T, H]; optional s0 [B, H, Dk, Dv]
 * @param opts snapshot (default false) and the chunkSize it uses (default 64); see types.ts
 * @returns o [B, T, H, Dv] and the final state [B, H, Dk, Dv], as Float64Arrays
 * @example
 *   const { o, state } = deltaRuleReference({ q, k, v, alpha, beta, shape: { batch: 1, seqLen: 8, heads: 2, dk: 4, dv: 4 } });
 */
export function deltaRuleReference(
  x: DeltaRuleInputs,
  opts: DeltaRuleOptions = {},
): DeltaRuleOutputs<Float64Array> {
  const { chunkSize: C, snapshot, erase } = deltaRuleOptions('deltaRule', opts);
  checkDeltaRuleInputs('deltaRule', x);
  const { batch: B, seqLen: T, heads: H, dk, dv } = x.shape;
  const o = new Float64Array(B * T * H * dv); // [B, T, H, Dv]
  const state = new Float64Array(B * H * dk * dv); // [B, H, Dk, Dv]
  const S = new Float64Array(dk * dv);
  const a = new Float64Array(dv);
  const delta = new Float64Array(dv);
  const snap = snapshot ? new Float64Array(dk * dv) : null;
  const vEff = new Float64Array(dv);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const sOff = (b * H + h) * dk * dv;
      if (x.s0) for (let i = 0; i < dk * dv; i++) S[i] = x.s0[sOff + i];
      else S.fill(0);
      for (let t = 0; t < T; t++) {
        const row = (b * T + t) * H + h; // index into [B, T, H]
        if (snap && t % C === 0) snap.set(S);
        const [vv, vo] = effectiveValue(x.v, row * dv, snap, x.k, row * dk, x.alpha[row], dk, dv, vEff);
        deltaRuleStep(S, x.k, row * dk, vv, vo, x.alpha[row], x.beta[row], dk, dv, a, delta, erase);
        for (let j = 0; j < dv; j++) {
          let s = 0;
          for (let i = 0; i < dk; i++) s += S[i * dv + j] * x.q[row * dk + i];
          o[row * dv + j] = s;
        }
      }
      state.set(S, sOff);
    }
  }
  return { o, state };
}
