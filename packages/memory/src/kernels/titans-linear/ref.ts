/**
 * Titans linear memory — token-by-token reference with the chunk-start linearization
 * (mini-batch semantics; maths in types.ts). Plain float64 loops, one (batch, head) at a time.
 */
import type { FloatArray } from '../shape.js';
import {
  checkTitansInputs,
  titansOptions,
  type TitansLinearInputs,
  type TitansLinearOptions,
  type TitansLinearOutputs,
} from './types.js';

/**
 * One token: e = Msnap k − v (into `e`), S ← η S − θ e kᵀ, M ← (1−α) M + S. All matrices [Dv, Dk].
 */
export function titansLinearStep(
  M: Float64Array,
  S: Float64Array,
  Msnap: Float64Array,
  k: FloatArray,
  kOff: number,
  v: FloatArray,
  vOff: number,
  theta: number,
  eta: number,
  alpha: number,
  dk: number,
  dv: number,
  e: Float64Array, // [Dv] out
): void {
  for (let i = 0; i < dv; i++) {
    let s = -v[vOff + i];
    for (let p = 0; p < dk; p++) s += Msnap[i * dk + p] * k[kOff + p];
    e[i] = s;
  }
  for (let i = 0; i < dv; i++) {
    for (let p = 0; p < dk; p++) {
      const idx = i * dk + p;
      S[idx] = eta * S[idx] - theta * e[i] * k[kOff + p];
      M[idx] = (1 - alpha) * M[idx] + S[idx];
    }
  }
}

/** out[off..off+Dv) = M q for M [Dv, Dk]. */
export function readMemory(
  M: Float64Array,
  q: FloatArray,
  qOff: number,
  dk: number,
  dv: number,
  out: Float64Array,
  off: number,
): void {
  for (let i = 0; i < dv; i++) {
    let s = 0;
    for (let p = 0; p < dk; p++) s += M[i * dk + p] * q[qOff + p];
    out[off + i] = s;
  }
}

/**
 * Titans linear-memory forward, token by token, inner gradients at each chunk's start state.
 *
 * @param x q, k [B, T, H, Dk]; v [B, T, H, Dv]; theta, eta, alpha [B, T, H]; optional m0, s0 [B, H, Dv, Dk]
 * @param opts chunkSize (default 64), readAfterWrite (default true)
 * @returns o [B, T, H, Dv], final memory m and momentum s [B, H, Dv, Dk] (Float64Arrays)
 * @example
 *   const { o, m, s } = titansLinearReference({ q, k, v, theta, eta, alpha, shape }, { chunkSize: 16 });
 */
export function titansLinearReference(
  x: TitansLinearInputs,
  opts: TitansLinearOptions = {},
): TitansLinearOutputs<Float64Array> {
  const op = 'titansLinear';
  const { chunkSize: C, readAfterWrite } = titansOptions(op, opts);
  checkTitansInputs(op, x);
  const { batch: B, seqLen: T, heads: H, dk, dv } = x.shape;
  const n = dv * dk;
  const o = new Float64Array(B * T * H * dv);
  const mOut = new Float64Array(B * H * n);
  const sOut = new Float64Array(B * H * n);
  const M = new Float64Array(n),
    S = new Float64Array(n),
    Msnap = new Float64Array(n),
    e = new Float64Array(dv);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const off = (b * H + h) * n;
      for (let i = 0; i < n; i++) {
        M[i] = x.m0 ? x.m0[off + i] : 0;
        S[i] = x.s0 ? x.s0[off + i] : 0;
      }
      for (let t = 0; t < T; t++) {
        if (t % C === 0) Msnap.set(M);
        const row = (b * T + t) * H + h;
        if (!readAfterWrite) readMemory(M, x.q, row * dk, dk, dv, o, row * dv);
        titansLinearStep(
          M,
          S,
          Msnap,
          x.k,
          row * dk,
          x.v,
          row * dv,
          x.theta[row],
          x.eta[row],
          x.alpha[row],
          dk,
          dv,
          e,
        );
        if (readAfterWrite) readMemory(M, x.q, row * dk, dk, dv, o, row * dv);
      }
      mOut.set(M, off);
      sOut.set(S, off);
    }
  }
  return { o, m: mOut, s: sOut };
}
