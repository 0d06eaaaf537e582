/**
 * SelfModifyingTitans `impl: 'chunked'`: the maths of the token loop (self-modifying.ts, §4 of
 * nested-learning.md) with all memories stacked on one axis M and every segment (the tokens
 * between two consecutive boundaries of chunkMem or chunkOther, so every snapshot ξ is fixed in
 * it) processed by a few batched ops; everything is built from tensor ops, so autograd carries
 * the outer gradient to every init and generator (A18).
 *
 * Per segment of L tokens (t = 1..L), per memory, with k_t, α_t, η_t = α_t b_t from the
 * snapshots and the inner-gradient factors a_t = σ(W2ξ k_t), e_t, g_t (all snapshot-only, one
 * batched pass), the recurrences S ← βS − η∇, W1 ← αW1 + S1, W2 ← W2(αI − η k kᵀ) + S2 unroll to
 * (notation of self-modifying-chunked-decay.ts):
 *   W1_t = A_t W1_0 + C_t S1_0 − Σ_{j≤t} H[t, j] e_j a_jᵀ
 *   W2_t = A_t W2_0 + C_t S2_0 + Σ_{j≤t} (R[t, j] u_j − H[t, j] g_j) k_jᵀ,  u_t = −η_t W2_{t−1} k_t
 * where the u_t (the delta-rule corrections) solve the unit lower triangular system
 *   u_t + b_t Σ_{j<t} R[t, j](k_jᵀk_t) u_j = −b_t (A_t W2_0 k_t + (C_t − β^t) S2_0 k_t
 *                                                  − Σ_{j<t} H'[t, j](k_jᵀk_t) g_j)
 * (one [L, L] inverse per head, shared by all memories). M_mem's read after each write uses
 * the same sums with q_t in place of the segment end ("dual form", causal [L, L] masks):
 *   W2_t q_t = A_t W2_0 q_t + C_t S2_0 q_t + Σ_{j≤t} (R[t, j] u_j − H[t, j] g_j)(k_jᵀ q_t)
 *   W1_t y_t = A_t W1_0 y_t + C_t S1_0 y_t − Σ_{j≤t} H[t, j](a_jᵀ y_t) e_j
 * Only the segment-end weights are materialised.
 */
import {
  add,
  cat,
  div,
  matmul,
  mean,
  mul,
  neg,
  norm,
  permute,
  select,
  sigmoid,
  silu,
  stack,
  sub,
  transpose,
  unsqueeze,
  zeros,
  type Tensor,
} from '@nl/tensor';
import { siluDerivative } from './titans.js';
import { segConsts, segDecay, unitLowerInverse, type SegConsts } from './self-modifying-chunked-decay.js';

/** One memory's fast state (as SelfModifyingTitans keeps it): w/s/a [B, H, D, Dh] / [B, H, Dh, D]. */
export interface ChunkMemState {
  w1: Tensor;
  w2: Tensor;
  s1: Tensor;
  s2: Tensor;
  a1: Tensor;
  a2: Tensor;
}

/** Inputs of one chunked forward call. */
export interface ChunkedArgs {
  names: readonly string[];
  state: Record<string, ChunkMemState>;
  x: Tensor; // [B, T, H, D]
  q: Tensor; // [B, T, H, D]
  tokens: number; // position of x's first token
  frozen: boolean;
  chunkMem: number;
  chunkOther: number;
  momentum: number;
  alphaBias: number;
  etaBias: number;
  adaptiveQ: boolean;
  readSnapshot: boolean;
}

/** Stacked state: w1, s1, a1 [M, B, H, D, Dh]; w2, s2, a2 [M, B, H, Dh, D] (M first: a [B, H, ...]
 * operand broadcasts over it and matmul batches collapse to one run per memory). */
type Stacked = ChunkMemState;
const KEYS = ['w1', 'w2', 's1', 's2', 'a1', 'a2'] as const;
const mT = (t: Tensor): Tensor => transpose(t, -2, -1);
/** Residual MLP z + W1 σ(W2 z) on row vectors: z [.., L, D], w1 [.., D, Dh], w2 [.., Dh, D]. */
const mlpRows = (w1: Tensor, w2: Tensor, z: Tensor): Tensor =>
  add(z, matmul(silu(matmul(z, mT(w2))), mT(w1)));

/** Chunked forward: returns o [B, T, H, D] and the new per-memory state (the old one when frozen). */
export function selfModChunked(a: ChunkedArgs): { out: Tensor; state: Record<string, ChunkMemState> } {
  const [b, T, h, d] = a.x.shape as [number, number, number, number];
  const dtype = a.x.dtype as 'float32' | 'float64';
  const tok = (t: Tensor): Tensor => permute(t, [0, 2, 1, 3]); // [B, T, H, D] → [B, H, T, D]
  const back = (o: Tensor): Tensor => permute(o, [0, 2, 1, 3]).contiguous(); // [B, H, T, D] → [B, T, H, D]
  if (T === 0) return { out: zeros([b, 0, h, d], { dtype, device: a.x.device }), state: a.state };
  if (a.frozen) {
    const mem = a.state.mem!;
    const qq = a.adaptiveQ ? mlpRows(a.state.q!.a1, a.state.q!.a2, tok(a.x)) : tok(a.q);
    return { out: back(mlpRows(mem.w1, mem.w2, qq)), state: a.state };
  }
  const names = a.names;
  let st = {} as Stacked;
  for (const key of KEYS)
    st[key] = stack(
      names.map((n) => a.state[n]![key]),
      0,
    );
  const isMem = names.map((n) => n === 'mem');
  const consts = new Map<number, SegConsts>();
  const xs = tok(a.x);
  const qs = tok(a.q);
  const outs: Tensor[] = [];
  for (let t0 = 0; t0 < T; ) {
    const pos = a.tokens + t0;
    const next = (c: number): number => Math.floor(pos / c + 1) * c;
    const len = Math.min(T - t0, Math.min(next(a.chunkMem), next(a.chunkOther)) - pos);
    const snapMem = pos % a.chunkMem === 0;
    const snapOther = pos % a.chunkOther === 0;
    if (snapMem && snapOther) st = { ...st, a1: st.w1, a2: st.w2 };
    else if (snapMem || snapOther) {
      const take = isMem.map((m) => m === snapMem);
      st = { ...st, a1: pick(st.w1, st.a1, take), a2: pick(st.w2, st.a2, take) };
    }
    let k = consts.get(len);
    if (k === undefined) consts.set(len, (k = segConsts(len, a.momentum, dtype, a.x.device)));
    const r = segment(st, xs.narrow(2, t0, len), qs.narrow(2, t0, len), k, a);
    st = r.st;
    outs.push(r.out);
    t0 += len;
  }
  const state: Record<string, ChunkMemState> = {};
  names.forEach((n, i) => {
    const m = {} as ChunkMemState;
    for (const key of KEYS) m[key] = select(st[key], 0, i);
    state[n] = m;
  });
  return { out: back(outs.length === 1 ? outs[0]! : cat(outs, 2)), state };
}

/** Stacked [M, ...] tensor whose memory i comes from `fresh` where take[i], else from `old`. */
function pick(fresh: Tensor, old: Tensor, take: boolean[]): Tensor {
  const parts: Tensor[] = [];
  for (let i = 0, j = 0; i < take.length; i = j) {
    while (j < take.length && take[j] === take[i]) j++;
    parts.push((take[i] ? fresh : old).narrow(0, i, j - i));
  }
  return parts.length === 1 ? parts[0]! : cat(parts, 0);
}

/** One segment: x, q [B, H, L, D]; returns o [B, H, L, D] and the state after its last token. */
function segment(
  st: Stacked,
  x: Tensor,
  qIn: Tensor,
  k: SegConsts,
  a: ChunkedArgs,
): { st: Stacked; out: Tensor } {
  const idx = (n: string): number => a.names.indexOf(n);
  const a1T = mT(st.a1); // [M, B, H, Dh, D]
  const a2T = mT(st.a2); // [M, B, H, D, Dh]
  const snapAll = (z: Tensor): Tensor => add(z, matmul(silu(matmul(z, a2T)), a1T)); // [.., B, H, L, D] → [M, B, H, L, D]
  // generators from the snapshots (M_mem's is skipped when it is the last memory)
  const im = idx('mem');
  const nGen = im === a.names.length - 1 ? im : a.names.length;
  const gen = add(x, matmul(silu(matmul(x, a2T.narrow(0, 0, nGen))), a1T.narrow(0, 0, nGen)));
  const kr = select(gen, 0, idx('k')); // [B, H, L, D]
  const key = div(kr, add(unsqueeze(norm(kr, 2, -1), -1), 1e-6));
  const v = select(gen, 0, idx('v'));
  const alpha = sigmoid(add(mean(select(gen, 0, idx('alpha')), -1, true), a.alphaBias)); // [B, H, L, 1]
  const bGate = sigmoid(add(mean(select(gen, 0, idx('eta')), -1, true), a.etaBias)); // η / α
  const eta = mul(alpha, bGate);
  const q = a.adaptiveQ ? select(gen, 0, idx('q')) : qIn;
  // inner-gradient factors at the snapshots, all tokens and memories at once
  const vhat = snapAll(v); // [M, B, H, L, D]
  const p = matmul(key, a2T); // [M, B, H, L, Dh]
  const act = silu(p);
  const e = sub(add(key, matmul(act, a1T)), vhat); // [M, B, H, L, D]
  const g = mul(matmul(e, st.a1), siluDerivative(p)); // [M, B, H, L, Dh]
  // delta-rule corrections u_t: (I + N) U = RHS, N = b ⊙ strict(R ⊙ K Kᵀ)
  const dc = segDecay(alpha, eta, k);
  const kk = matmul(key, mT(key)); // [B, H, L, L]
  const inv = unitLowerInverse(mul(mul(mul(dc.r, kk), k.strict), bGate), k);
  // terms of the segment-start momentum S_0 (all zero without momentum: skipped)
  const withS = (base: Tensor, term: () => Tensor): Tensor => (a.momentum === 0 ? base : add(base, term()));
  const rhs = mul(
    neg(bGate),
    sub(
      withS(mul(dc.acum, matmul(key, mT(st.w2))), () => mul(dc.cPrev, matmul(key, mT(st.s2)))),
      matmul(mul(dc.hp, kk), g),
    ),
  ); // [M, B, H, L, Dh]
  const u = matmul(inv, rhs); // [M, B, H, L, Dh]
  // M_mem's read of q_t after token t's write (or at the snapshot)
  const mem = (t: Tensor): Tensor => select(t, 0, im);
  let out: Tensor;
  if (a.readSnapshot) out = mlpRows(mem(st.a1), mem(st.a2), q);
  else {
    const qk = matmul(q, mT(key)); // [B, H, L, L] k_jᵀ q_t
    const z = add(
      withS(mul(dc.acum, matmul(q, mT(mem(st.w2)))), () => mul(dc.c, matmul(q, mT(mem(st.s2))))),
      sub(matmul(mul(dc.r, qk), mem(u)), matmul(mul(dc.h, qk), mem(g))),
    ); // [B, H, L, Dh] W2_t q_t
    const y = silu(z);
    const w1y = sub(
      withS(mul(dc.acum, matmul(y, mT(mem(st.w1)))), () => mul(dc.c, matmul(y, mT(mem(st.s1))))),
      matmul(mul(dc.h, matmul(y, mT(mem(act)))), mem(e)),
    ); // [B, H, L, D] W1_t y_t
    out = add(q, w1y);
  }
  // segment-end state
  const { aEnd, cEnd, wEnd } = dc; // [B, H, 1, 1], [B, H, 1, 1], [B, H, L, 1]
  const w2 = add(
    withS(mul(st.w2, aEnd), () => mul(st.s2, cEnd)),
    matmul(mT(sub(mul(u, dc.rEnd), mul(g, dc.hEnd))), key),
  );
  const w1 = sub(
    withS(mul(st.w1, aEnd), () => mul(st.s1, cEnd)),
    matmul(mT(mul(e, dc.hEnd)), act),
  );
  const negW = neg(wEnd); // sign on the [B, H, L, 1] factor, not on the [M, B, H, Dh, D] product
  const ds2 = matmul(mT(mul(g, negW)), key); // −Σ_j β^{L−j} η_j g_j k_jᵀ
  const ds1 = matmul(mT(mul(e, negW)), act);
  const s2 = withS(ds2, () => mul(st.s2, k.betaL));
  const s1 = withS(ds1, () => mul(st.s1, k.betaL));
  return { st: { w1, w2, s1, s2, a1: st.a1, a2: st.a2 }, out };
}
