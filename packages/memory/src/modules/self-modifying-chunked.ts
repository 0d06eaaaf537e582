/**
 * SelfModifyingTitans `impl: 'chunked'`: the maths of the token loop (self-modifying.ts, §4 of
 * nested-learning.md) in a few batched tensor ops per segment; everything is built from tensor
 * ops, so autograd carries the outer gradient to every init and generator (A18).
 *
 * Two groups, each stacked on a leading axis M and cut into its own segments (so its snapshots ξ
 * are fixed inside one): the generator memories k, v, eta, alpha (+ q) at chunkOther, whose
 * snapshots give every token's k, v, α, η (+ q) and which never read M_mem; then M_mem at
 * chunkMem, fed with those per-token generators. Segments also start where a call starts.
 *
 * Per segment of L tokens (t = 1..L), per memory, with k_t, α_t, η_t = α_t b_t and the
 * inner-gradient factors a_t = σ(W2ξ k_t), e_t, g_t (snapshot-only: one batched pass), the
 * recurrences S ← βS − η∇, W1 ← αW1 + S1, W2 ← W2(αI − η k kᵀ) + S2 unroll to (notation of
 * self-modifying-chunked-decay.ts):
 *   W1_t = A_t W1_0 + C_t S1_0 − Σ_{j≤t} H[t, j] e_j a_jᵀ
 *   W2_t = A_t W2_0 + C_t S2_0 + Σ_{j≤t} (R[t, j] u_j − H[t, j] g_j) k_jᵀ,  u_t = −η_t W2_{t−1} k_t
 * where the u_t (the delta-rule corrections) solve the unit lower triangular system
 *   u_t + b_t Σ_{j<t} R[t, j](k_jᵀk_t) u_j = −b_t (A_t W2_0 k_t + (C_t − β^t) S2_0 k_t
 *                                                  − Σ_{j<t} H'[t, j](k_jᵀk_t) g_j)
 * (one [L, L] inverse per head, shared by the group). M_mem's read after each write uses the
 * same sums with q_t in place of the segment end ("dual form", causal [L, L] masks):
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
import { innerGradScale } from './self-modifying-clip.js';
import {
  segConsts,
  segDecay,
  unitLowerInverse,
  type SegConsts,
  type SegDecay,
} from './self-modifying-chunked-decay.js';

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
  /** Separate value input [B, T, H, D]: v = M_v,ξ(xv) (default: x). */
  xv?: Tensor;
  tokens: number; // position of x's first token
  frozen: boolean;
  chunkMem: number;
  chunkOther: number;
  momentum: number;
  alphaBias: number;
  etaBias: number;
  adaptiveQ: boolean;
  readSnapshot: boolean;
  /** Generators never write (ablation; SelfModifyingConfig.staticGenerators). */
  staticGenerators?: boolean;
  /** DGD's −η W2 k kᵀ term (default true; SelfModifyingConfig.precondition). */
  precondition?: boolean;
  /** Per-token inner-gradient clipping (0 / undefined = off; self-modifying-clip.ts). */
  innerGradClip?: number;
}

/** Stacked state of a group: w1, s1, a1 [M, B, H, D, Dh]; w2, s2, a2 [M, B, H, Dh, D] (M first:
 * [B, H, ...] operands broadcast over it and matmul batches collapse to one run per memory). */
type Stacked = ChunkMemState;
/** Per-token generators of a span: k, v, q [B, H, L, D]; alpha, b (= η / α) [B, H, L, 1]. */
interface Gens {
  k: Tensor;
  v: Tensor;
  alpha: Tensor;
  b: Tensor;
  q: Tensor;
}
const KEYS = ['w1', 'w2', 's1', 's2', 'a1', 'a2'] as const;
const mT = (t: Tensor): Tensor => transpose(t, -2, -1);
/** Residual MLP z + W1 σ(W2 z) on row vectors: z [.., L, D], w1 [.., D, Dh], w2 [.., Dh, D]. */
const mlpRows = (w1: Tensor, w2: Tensor, z: Tensor): Tensor =>
  add(z, matmul(silu(matmul(z, mT(w2))), mT(w1)));

/** Runs `seg` over [0, T) cut at multiples of `chunk` (positions from `tokens`); snapshots at them. */
function segments(
  T: number,
  tokens: number,
  chunk: number,
  st0: Stacked,
  seg: (st: Stacked, t0: number, len: number) => Stacked,
): Stacked {
  let st = st0;
  for (let t0 = 0; t0 < T; ) {
    const pos = tokens + t0;
    const len = Math.min(T - t0, chunk - (pos % chunk));
    if (pos % chunk === 0) st = { ...st, a1: st.w1, a2: st.w2 };
    st = seg(st, t0, len);
    t0 += len;
  }
  return st;
}

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
  const precondition = a.precondition !== false;
  const consts = new Map<number, SegConsts>();
  const constsOf = (len: number): SegConsts => {
    let k = consts.get(len);
    if (k === undefined) consts.set(len, (k = segConsts(len, a.momentum, dtype, a.x.device)));
    return k;
  };
  const gNames = a.names.filter((n) => n !== 'mem');
  const gi = (n: string): number => gNames.indexOf(n);
  const stackOf = (ns: readonly string[]): Stacked => {
    const st = {} as Stacked;
    for (const key of KEYS)
      st[key] =
        ns.length === 1
          ? unsqueeze(a.state[ns[0]!]![key], 0)
          : stack(
              ns.map((n) => a.state[n]![key]),
              0,
            );
    return st;
  };
  // 1) generator memories at chunkOther: every token's k, v, α, b (+ q)
  const xs = tok(a.x);
  const xvs = a.xv === undefined ? null : tok(a.xv); // [B, H, T, D]
  const spans: Gens[] = [];
  const stG = segments(T, a.tokens, a.chunkOther, stackOf(gNames), (st, t0, len) => {
    const x = xs.narrow(2, t0, len); // [B, H, L, D]
    const gen = mlpRows(st.a1, st.a2, x); // [Mg, B, H, L, D]
    const kr = select(gen, 0, gi('k'));
    const gate = (n: string, bias: number): Tensor =>
      sigmoid(add(mean(select(gen, 0, gi(n)), -1, true), bias));
    const g: Gens = {
      k: div(kr, add(unsqueeze(norm(kr, 2, -1), -1), 1e-6)),
      v:
        xvs === null
          ? select(gen, 0, gi('v'))
          : mlpRows(select(st.a1, 0, gi('v')), select(st.a2, 0, gi('v')), xvs.narrow(2, t0, len)),
      alpha: gate('alpha', a.alphaBias), // [B, H, L, 1]
      b: gate('eta', a.etaBias),
      q: a.adaptiveQ ? select(gen, 0, gi('q')) : x,
    };
    spans.push(g);
    return a.staticGenerators === true
      ? st
      : write(st, g, constsOf(len), a.momentum, precondition, a.innerGradClip ?? 0).st;
  });
  const joined = (f: (g: Gens) => Tensor): Tensor =>
    spans.length === 1 ? f(spans[0]!) : cat(spans.map(f), 2);
  const all: Gens = {
    k: joined((g) => g.k),
    v: joined((g) => g.v),
    alpha: joined((g) => g.alpha),
    b: joined((g) => g.b),
    q: a.adaptiveQ ? joined((g) => g.q) : tok(a.q),
  };
  // 2) M_mem at chunkMem: writes and reads after each write (or at the snapshot)
  const outs: Tensor[] = [];
  const stM = segments(T, a.tokens, a.chunkMem, stackOf(['mem']), (st, t0, len) => {
    const sl = (t: Tensor): Tensor => t.narrow(2, t0, len);
    const g: Gens = { k: sl(all.k), v: sl(all.v), alpha: sl(all.alpha), b: sl(all.b), q: sl(all.q) };
    const w = write(st, g, constsOf(len), a.momentum, precondition, a.innerGradClip ?? 0);
    const o = a.readSnapshot ? mlpRows(st.a1, st.a2, g.q) : readAfterWrite(st, g, w, a.momentum);
    outs.push(select(o, 0, 0)); // [B, H, L, D]
    return w.st;
  });
  const state: Record<string, ChunkMemState> = {};
  const unstack = (st: Stacked, i: number): ChunkMemState => {
    const m = {} as ChunkMemState;
    for (const key of KEYS) m[key] = select(st[key], 0, i);
    return m;
  };
  gNames.forEach((n, i) => (state[n] = unstack(stG, i)));
  state.mem = unstack(stM, 0);
  return { out: back(outs.length === 1 ? outs[0]! : cat(outs, 2)), state };
}

/** A segment's writes: the new state and what M_mem's reads reuse. */
interface Write {
  st: Stacked;
  e: Tensor; // [M, B, H, L, D]
  act: Tensor; // [M, B, H, L, Dh] a_t
  g: Tensor; // [M, B, H, L, Dh]
  u: Tensor | null; // [M, B, H, L, Dh]; null without the preconditioner
  dc: SegDecay;
}

/**
 * One segment's writes to every memory of the group `st` (snapshots fixed), generators `gn`.
 * Without the preconditioner the corrections u_t are zero (W2 ← α W2 + S2).
 */
function write(
  st: Stacked,
  gn: Gens,
  k: SegConsts,
  momentum: number,
  precondition: boolean,
  clip: number,
): Write {
  const { k: key, alpha, b: bGate } = gn;
  const eta = mul(alpha, bGate);
  const a1T = mT(st.a1); // [M, B, H, Dh, D]
  const a2T = mT(st.a2); // [M, B, H, D, Dh]
  // inner-gradient factors at the snapshots, all tokens and memories at once
  const p = matmul(key, a2T); // [M, B, H, L, Dh]
  const act = silu(p);
  // e = M_ξ(k) − v̂ with v̂ = M_ξ(v) = v + W1ξ σ(W2ξ v): one W1ξ product for both
  let e = add(sub(key, gn.v), matmul(sub(act, silu(matmul(gn.v, a2T))), a1T)); // [M, B, H, L, D]
  let g = mul(matmul(e, st.a1), siluDerivative(p)); // [M, B, H, L, Dh]
  if (clip > 0) {
    const s = innerGradScale(e, act, g, key, clip); // [M, B, H, L, 1]: every later use sees the clipped pair
    e = mul(e, s);
    g = mul(g, s);
  }
  // delta-rule corrections u_t: (I + N) U = RHS, N = b ⊙ strict(R ⊙ K Kᵀ)
  const dc = segDecay(alpha, eta, k);
  // terms of the segment-start momentum S_0 (all zero without momentum: skipped)
  const withS = (base: Tensor, term: () => Tensor): Tensor => (momentum === 0 ? base : add(base, term()));
  let u: Tensor | null = null; // [M, B, H, L, Dh]
  if (precondition) {
    const kw2 = st.w2 === st.a2 ? p : matmul(key, mT(st.w2)); // W2_0 k_t (= p when the segment starts a chunk)
    const kk = matmul(key, mT(key)); // [B, H, L, L]
    const inv = unitLowerInverse(mul(mul(mul(dc.r, kk), k.strict), bGate), k);
    const rhs = mul(
      neg(bGate),
      sub(
        withS(mul(dc.acum, kw2), () => mul(dc.cPrev, matmul(key, mT(st.s2)))),
        matmul(mul(dc.hp, kk), g),
      ),
    ); // [M, B, H, L, Dh]
    u = matmul(inv, rhs);
  }
  // segment-end state
  const { aEnd, cEnd, wEnd } = dc; // [B, H, 1, 1], [B, H, 1, 1], [B, H, L, 1]
  const gEnd = mul(g, dc.hEnd);
  const w2 = add(
    withS(mul(st.w2, aEnd), () => mul(st.s2, cEnd)),
    matmul(mT(u === null ? neg(gEnd) : sub(mul(u, dc.rEnd), gEnd)), key),
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
  return { st: { w1, w2, s1, s2, a1: st.a1, a2: st.a2 }, e, act, g, u, dc };
}

/** o_t = M_t(q_t) after token t's write, in dual form: q [B, H, L, D] → [M, B, H, L, D]. */
function readAfterWrite(st: Stacked, gn: Gens, w: Write, momentum: number): Tensor {
  const { q, k: key } = gn;
  const { dc } = w;
  const withS = (base: Tensor, term: () => Tensor): Tensor => (momentum === 0 ? base : add(base, term()));
  const qk = matmul(q, mT(key)); // [B, H, L, L] k_jᵀ q_t
  const z = add(
    withS(mul(dc.acum, matmul(q, mT(st.w2))), () => mul(dc.c, matmul(q, mT(st.s2)))),
    w.u === null
      ? neg(matmul(mul(dc.h, qk), w.g))
      : sub(matmul(mul(dc.r, qk), w.u), matmul(mul(dc.h, qk), w.g)),
  ); // [M, B, H, L, Dh] W2_t q_t
  const y = silu(z);
  const w1y = sub(
    withS(mul(dc.acum, matmul(y, mT(st.w1))), () => mul(dc.c, matmul(y, mT(st.s1)))),
    matmul(mul(dc.h, matmul(y, mT(w.act))), w.e),
  ); // [M, B, H, L, D] W1_t y_t
  return add(q, w1y);
}
