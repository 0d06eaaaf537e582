/**
 * Segment-level scalar algebra of the chunked SelfModifyingTitans (self-modifying-chunked.ts).
 * Within a segment of L tokens (t = 1..L), per batch row and head, the inner rule's scalar
 * coefficients are α_t (decay), η_t = α_t b_t (step), β (momentum). With A_t = Π_{i≤t} α_i and
 * R[t, i] = A_t / A_i (i ≤ t, computed as exp of differences of Σ log α, never as 1 / A):
 *   C_t     = Σ_{i≤t} R[t, i] β^i                     (coefficient of the segment-start S)
 *   H[t, j] = η_j Σ_{i=j..t} R[t, i] β^{i−j}   (j ≤ t) (coefficient of token j's gradient in W_t)
 *   H'[t, j] = H[t, j] − η_j β^{t−j} = α_t H[t−1, j]   (j < t)
 * All of them are matmuls and elementwise ops on [B, H, L, L] tensors (no token loop).
 */
import {
  add,
  cat,
  eye,
  exp,
  log,
  matmul,
  mul,
  neg,
  sub,
  tensor,
  transpose,
  type Device,
  type Tensor,
} from '@nl/tensor';

/** Constant [L, L] / [L, 1] matrices of one segment length and momentum. */
export interface SegConsts {
  len: number;
  incl: Tensor; // [L, L] 1 where j ≤ t
  strict: Tensor; // [L, L] 1 where j < t
  bb: Tensor; // [L, L] β^{t−j} where j ≤ t, else 0
  bpow: Tensor; // [L, 1] β^t, t = 1..L
  bend: Tensor; // [L, 1] β^{L−j}, j = 1..L
  betaL: number; // β^L
  eye: Tensor; // [L, L]
}

/** Builds the constants of a segment of `len` tokens (float dtype and device of the input). */
export function segConsts(
  len: number,
  beta: number,
  dtype: 'float32' | 'float64',
  device: Device,
): SegConsts {
  const incl: number[] = [];
  const strict: number[] = [];
  const bb: number[] = [];
  for (let t = 0; t < len; t++)
    for (let j = 0; j < len; j++) {
      incl.push(j <= t ? 1 : 0);
      strict.push(j < t ? 1 : 0);
      bb.push(j <= t ? beta ** (t - j) : 0);
    }
  const sq = (a: number[]): Tensor => tensor(a, { shape: [len, len], dtype, device });
  const col = (f: (i: number) => number): Tensor =>
    tensor(
      Array.from({ length: len }, (_, i) => f(i)),
      { shape: [len, 1], dtype, device },
    );
  return {
    len,
    incl: sq(incl),
    strict: sq(strict),
    bb: sq(bb),
    bpow: col((t) => beta ** (t + 1)),
    bend: col((j) => beta ** (len - 1 - j)),
    betaL: beta ** len,
    eye: eye(len, len, { dtype, device }),
  };
}

/** Decay coefficients of one segment (see the file comment); columns are [B, H, L, 1]. */
export interface SegDecay {
  r: Tensor; // [B, H, L, L] R (0 above the diagonal)
  h: Tensor; // [B, H, L, L] H (0 above the diagonal)
  hp: Tensor; // [B, H, L, L] H' (0 on and above the diagonal)
  acum: Tensor; // [B, H, L, 1] A_t
  c: Tensor; // [B, H, L, 1] C_t
  cPrev: Tensor; // [B, H, L, 1] C_t − β^t = α_t C_{t−1}
  aEnd: Tensor; // [B, H, 1, 1] A_L
  cEnd: Tensor; // [B, H, 1, 1] C_L
  rEnd: Tensor; // [B, H, L, 1] R[L, j]
  hEnd: Tensor; // [B, H, L, 1] H[L, j]
  wEnd: Tensor; // [B, H, L, 1] η_j β^{L−j}
}

const mT = (t: Tensor): Tensor => transpose(t, -2, -1);
const lastRow = (t: Tensor, len: number): Tensor => t.narrow(-2, len - 1, 1);

/** alpha, eta: [B, H, L, 1] → the segment's decay coefficients. */
export function segDecay(alpha: Tensor, eta: Tensor, k: SegConsts): SegDecay {
  const lc = matmul(k.incl, log(alpha)); // [B, H, L, 1] Σ_{i≤t} log α_i
  const r = mul(exp(mul(sub(lc, mT(lc)), k.incl)), k.incl); // [B, H, L, L]
  const acum = exp(lc);
  const etaRow = mT(eta); // [B, H, 1, L]
  const h = mul(matmul(r, k.bb), etaRow);
  const hp = mul(sub(h, mul(k.bb, etaRow)), k.strict);
  const c = matmul(r, k.bpow);
  const L = k.len;
  return {
    r,
    h,
    hp,
    acum,
    c,
    cPrev: sub(c, k.bpow),
    aEnd: lastRow(acum, L),
    cEnd: lastRow(c, L),
    rEnd: mT(lastRow(r, L)),
    hEnd: mT(lastRow(h, L)),
    wEnd: mul(eta, k.bend),
  };
}

/** Σ_{i<L} (−N)^i = (I − N)(I + N²)(I + N⁴)… for a block n [..., L, L] (Nᴸ = 0); eye [L, L]. */
function doublingInverse(n: Tensor, eye: Tensor, len: number): Tensor {
  const x = neg(n);
  let inv = add(eye, x);
  let p = x;
  for (let covered = 1; covered < len - 1; covered = 2 * covered + 1) {
    p = matmul(p, p);
    inv = add(inv, matmul(inv, p));
  }
  return inv;
}

/** Block size of the inverse: the doubling's powers of N grow like binomials, so blocks stay small. */
export const INVERSE_BLOCK = 8;

/**
 * (I + N)⁻¹ for N [..., L, L] strictly lower triangular: diagonal blocks of ≤ INVERSE_BLOCK rows
 * by doubling, then block forward substitution X_i = (I + N_ii)⁻¹ (E_i − N[i, <i] X[<i]), which
 * stays accurate for long segments with correlated keys (plain doubling over 64 rows does not).
 */
export function unitLowerInverse(n: Tensor, k: SegConsts): Tensor {
  const L = k.len;
  if (L <= INVERSE_BLOCK) return doublingInverse(n, k.eye, L);
  const rows: Tensor[] = []; // row blocks X_i [..., z_i, L]
  for (let s0 = 0; s0 < L; s0 += INVERSE_BLOCK) {
    const z = Math.min(INVERSE_BLOCK, L - s0);
    const band = n.narrow(-2, s0, z); // [..., z, L]
    const dInv = doublingInverse(band.narrow(-1, s0, z), k.eye.narrow(0, s0, z).narrow(1, s0, z), z);
    let rhs = k.eye.narrow(0, s0, z); // E_i [z, L]
    if (s0 > 0) {
      const prev = rows.length === 1 ? rows[0]! : cat(rows, -2); // X[<i] [..., s0, L]
      rhs = sub(rhs, matmul(band.narrow(-1, 0, s0), prev));
    }
    rows.push(matmul(dInv, rhs));
  }
  return cat(rows, -2);
}
