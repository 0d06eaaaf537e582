/**
 * Titans MLP memory (2-layer residual, mini-batch chunks) — token-by-token reference, float64.
 * The native kernel (native.ts) must match it (shared/docs/kernels.md §5.2).
 *
 * Memory per (batch, head): M(x) = x + W1 σ(W2 x), σ = SiLU, W2 ∈ R^{Dh×D}, W1 ∈ R^{D×Dh}
 * (D = Dk = Dv, residual). Inner loss ½‖M(k) − v‖², gradients at the chunk-start weights W' (t'):
 *   p = W2' k,  a = σ(p),  e = k + W1' a − v
 *   u1 = e aᵀ,  u2 = g kᵀ  with  g = (W1'ᵀ e) ⊙ σ'(p)
 *   S_ℓ ← η_t S_ℓ − θ_t u_ℓ,   W_ℓ ← (1 − α_t) W_ℓ + S_ℓ          (ℓ = 1, 2; shared gates)
 *   o_t = q_t + W1_t σ(W2_t q_t)   (readAfterWrite, default)  or with W_{t−1} (read before write)
 */
import {
  checkArray,
  checkChunkSize,
  checkFinite,
  checkShape,
  type FloatArray,
  type SeqShape,
} from '../shape.js';

/** Inputs of a Titans MLP-memory call (shape.dk = shape.dv = D). */
export interface TitansMlpInputs<A extends FloatArray = FloatArray> {
  /** Queries, keys, values [B, T, H, D]. */
  q: A;
  k: A;
  v: A;
  /** Inner lr θ, momentum decay η, forget gate α [B, T, H]. */
  theta: A;
  eta: A;
  alpha: A;
  /** Initial weights W1 [B, H, D, Dh] and W2 [B, H, Dh, D] (required: zero weights learn nothing in layer 2). */
  w1: A;
  w2: A;
  /** Initial momenta, same shapes; zeros when omitted. */
  s1?: A;
  s2?: A;
  shape: SeqShape;
  /** Hidden width Dh. */
  hidden: number;
}

/** Options: chunk size (mini-batch, default 64) and read order. */
export interface TitansMlpOptions {
  chunkSize?: number;
  readAfterWrite?: boolean;
}

/** Forward results: o [B, T, H, D]; final w1, w2, s1, s2. */
export interface TitansMlpOutputs {
  o: Float64Array;
  w1: Float64Array;
  w2: Float64Array;
  s1: Float64Array;
  s2: Float64Array;
}

/** SiLU and its first two derivatives. */
export function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}
export function siluGrad(x: number): number {
  const s = 1 / (1 + Math.exp(-x));
  return s * (1 + x * (1 - s));
}
export function siluGrad2(x: number): number {
  const s = 1 / (1 + Math.exp(-x));
  return s * (1 - s) * (2 + x * (1 - 2 * s));
}

/** Checks inputs and options; returns resolved options. */
export function checkTitansMlp(
  op: string,
  x: TitansMlpInputs,
  opts: TitansMlpOptions,
): Required<TitansMlpOptions> {
  const chunkSize = opts.chunkSize ?? 64;
  checkChunkSize(op, chunkSize);
  checkShape(op, x.shape);
  const { batch: B, seqLen: T, heads: H, dk, dv } = x.shape;
  if (dk !== dv)
    throw new RangeError(`nl.${op}: the residual MLP memory needs dk === dv, got dk ${dk} and dv ${dv}`);
  if (!Number.isInteger(x.hidden) || x.hidden < 1) {
    throw new RangeError(`nl.${op}: hidden must be a positive integer, got ${String(x.hidden)}`);
  }
  const D = dk,
    Dh = x.hidden;
  for (const name of ['q', 'k', 'v'] as const) checkArray(op, name, x[name], [B, T, H, D]);
  for (const name of ['theta', 'eta', 'alpha'] as const) {
    checkArray(op, name, x[name], [B, T, H]);
    checkFinite(op, name, x[name], x.shape);
  }
  checkArray(op, 'w1', x.w1, [B, H, D, Dh]);
  checkArray(op, 'w2', x.w2, [B, H, Dh, D]);
  if (x.s1 !== undefined) checkArray(op, 's1', x.s1, [B, H, D, Dh]);
  if (x.s2 !== undefined) checkArray(op, 's2', x.s2, [B, H, Dh, D]);
  return { chunkSize, readAfterWrite: opts.readAfterWrite ?? true };
}

/** y = A x for A [rows, cols] (row-major); y and x plain arrays with offsets. */
export function matVec(
  A: Float64Array,
  rows: number,
  cols: number,
  x: ArrayLike<number>,
  xOff: number,
  y: Float64Array,
): void {
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += A[i * cols + j] * x[xOff + j];
    y[i] = s;
  }
}

/** Per-token inner-gradient factors at the snapshot (W1s, W2s): p, a, e, g. */
export function innerFactors(
  W1s: Float64Array,
  W2s: Float64Array,
  D: number,
  Dh: number,
  k: FloatArray,
  kOff: number,
  v: FloatArray,
  vOff: number,
  p: Float64Array,
  a: Float64Array,
  e: Float64Array,
  c: Float64Array,
  g: Float64Array,
): void {
  matVec(W2s, Dh, D, k, kOff, p);
  for (let j = 0; j < Dh; j++) a[j] = silu(p[j]);
  matVec(W1s, D, Dh, a, 0, e);
  for (let i = 0; i < D; i++) e[i] += k[kOff + i] - v[vOff + i];
  c.fill(0); // c = W1sᵀ e
  for (let i = 0; i < D; i++) for (let j = 0; j < Dh; j++) c[j] += W1s[i * Dh + j] * e[i];
  for (let j = 0; j < Dh; j++) g[j] = c[j] * siluGrad(p[j]);
}

/** out[off..off+D) = q + W1 σ(W2 q). */
export function readMlp(
  W1: Float64Array,
  W2: Float64Array,
  D: number,
  Dh: number,
  q: FloatArray,
  qOff: number,
  out: Float64Array,
  off: number,
  r: Float64Array,
  z: Float64Array,
  y: Float64Array,
): void {
  matVec(W2, Dh, D, q, qOff, r);
  for (let j = 0; j < Dh; j++) z[j] = silu(r[j]);
  matVec(W1, D, Dh, z, 0, y);
  for (let i = 0; i < D; i++) out[off + i] = q[qOff + i] + y[i];
}

/**
 * Titans MLP-memory forward, token by token, inner gradients at each chunk's start weights.
 *
 * @param x q, k, v [B, T, H, D]; theta, eta, alpha [B, T, H]; w1 [B, H, D, Dh]; w2 [B, H, Dh, D];
 *   optional s1, s2; hidden = Dh
 * @param opts chunkSize (default 64), readAfterWrite (default true)
 * @returns o [B, T, H, D] and the final w1, w2, s1, s2
 */
export function titansMlpReference(x: TitansMlpInputs, opts: TitansMlpOptions = {}): TitansMlpOutputs {
  const { chunkSize: C, readAfterWrite } = checkTitansMlp('titansMlp', x, opts);
  const { batch: B, seqLen: T, heads: H, dk: D } = x.shape;
  const Dh = x.hidden,
    n = D * Dh;
  const out: TitansMlpOutputs = {
    o: new Float64Array(B * T * H * D),
    w1: new Float64Array(B * H * n),
    w2: new Float64Array(B * H * n),
    s1: new Float64Array(B * H * n),
    s2: new Float64Array(B * H * n),
  };
  const W1 = new Float64Array(n),
    W2 = new Float64Array(n),
    S1 = new Float64Array(n),
    S2 = new Float64Array(n);
  const W1s = new Float64Array(n),
    W2s = new Float64Array(n);
  const p = new Float64Array(Dh),
    a = new Float64Array(Dh),
    c = new Float64Array(Dh),
    g = new Float64Array(Dh);
  const e = new Float64Array(D),
    r = new Float64Array(Dh),
    z = new Float64Array(Dh),
    y = new Float64Array(D);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const off = (b * H + h) * n;
      for (let i = 0; i < n; i++) {
        W1[i] = x.w1[off + i];
        W2[i] = x.w2[off + i];
        S1[i] = x.s1 ? x.s1[off + i] : 0;
        S2[i] = x.s2 ? x.s2[off + i] : 0;
      }
      for (let t = 0; t < T; t++) {
        const row = (b * T + t) * H + h;
        if (t % C === 0) {
          W1s.set(W1);
          W2s.set(W2);
        }
        if (!readAfterWrite) readMlp(W1, W2, D, Dh, x.q, row * D, out.o, row * D, r, z, y);
        innerFactors(W1s, W2s, D, Dh, x.k, row * D, x.v, row * D, p, a, e, c, g);
        const th = x.theta[row],
          et = x.eta[row],
          keep = 1 - x.alpha[row];
        for (let i = 0; i < D; i++) {
          for (let j = 0; j < Dh; j++) {
            const i1 = i * Dh + j; // W1 [D, Dh]
            S1[i1] = et * S1[i1] - th * e[i] * a[j];
            W1[i1] = keep * W1[i1] + S1[i1];
            const i2 = j * D + i; // W2 [Dh, D]
            S2[i2] = et * S2[i2] - th * g[j] * x.k[row * D + i];
            W2[i2] = keep * W2[i2] + S2[i2];
          }
        }
        if (readAfterWrite) readMlp(W1, W2, D, Dh, x.q, row * D, out.o, row * D, r, z, y);
      }
      out.w1.set(W1, off);
      out.w2.set(W2, off);
      out.s1.set(S1, off);
      out.s2.set(S2, off);
    }
  }
  return out;
}
