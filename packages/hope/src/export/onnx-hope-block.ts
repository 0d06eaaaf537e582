/**
 * One token through one Hope layer as ONNX nodes (the body shared by the step graph and the
 * forward graph's Loop), batch B symbolic, x [B, 1, D]. Mirrors HopeBlock.forward and the 'loop'
 * reference of @nl/memory's SelfModifyingTitans for a single token at position `pos`:
 *
 *   n = RMSNorm₁(x); full = [conv cache (3 rows); n]; u = Σ_j w[:, j] ⊙ full[j] + b   (last row of
 *   the causal conv; the cache moves on to full[1:]); q = l2(W_q u), x̃ = l2(u) per head;
 *   snapshot refresh: where pos % C = 0, a ← w (C = chunkMem for 'mem', chunkOther otherwise);
 *   M_ξ(z) = z + a1 σ(a2 z); k = l2(M_k,ξ(x̃)), v = M_v,ξ(x̃),
 *   α = sigmoid(mean M_α,ξ(x̃) + alphaBias), η = α · sigmoid(mean M_η,ξ(x̃) + etaBias);
 *   per memory: v̂ = M_ξ(v), p = a2 k, e = k + a1 σ(p) − v̂, g = (a1ᵀ e) ⊙ σ'(p),
 *     (innerGradClip c: e, g ← s e, s g with s = c / max(‖(e σ(p)ᵀ, g kᵀ)‖_F, c)),
 *     S1 ← β S1 − η e σ(p)ᵀ, S2 ← β S2 − η g kᵀ, W2 ← α W2 − η (W2 k) kᵀ + S2, W1 ← α W1 + S1
 *     (ablations: `precondition: false` drops −η (W2 k) kᵀ; `staticGenerators` writes M_mem only);
 *   o = M_mem(q) with the new weights; h = x + W_o(SiLU(W_g n) ⊙ OutNorm(o));
 *   m = RMSNorm₂(h); CMS (sequential, static): z ← z + (W2ℓ + Δ2ℓ) SiLU((W1ℓ + Δ1ℓ) z); out = h + (z − m).
 *
 * Memory vectors are columns [B, H, D, 1] so that every matrix-vector product is one MatMul.
 */
import { HOPE_CONV } from '../models/hope-config.js';
import type { HopeLM } from '../models/hope.js';
import { HOPE_MEMORY_NAMES, type HopeOps } from './onnx-hope-parts.js';

/** One memory's fast state as value names: w1/a1/s1 [B, H, D, hid], w2/a2/s2 [B, H, hid, D]. */
export interface MemValues {
  w1: string;
  w2: string;
  s1: string;
  s2: string;
  a1: string;
  a2: string;
}

/** One layer's carried state as value names. */
export interface LayerValues {
  /** [B, 3, D]: the last three conv inputs. */
  conv: string;
  mem: Record<string, MemValues>;
}

/** Per chunk size, the bool [1] "a new chunk starts at this token" (pos % C == 0). */
export type ChunkStarts = ReadonlyMap<number, string>;

/** The conv / memory names of one memory's state fields, in fast-state order. */
export const MEM_FIELDS = ['w1', 'w2', 's1', 's2', 'a1', 'a2'] as const;

/**
 * x [B, 1, D] through layer `l` → the layer output [B, 1, D] and the layer's next state.
 * `cmsDelta`: per CMS level the Δ1 [hid, D] / Δ2 [D, hid] value names, or null for Δ = 0.
 */
export function hopeLayerToken(
  o: HopeOps,
  model: HopeLM,
  l: number,
  x: string,
  st: LayerValues,
  starts: ChunkStarts,
  cmsDelta: { d1: string; d2: string }[] | null,
): { x: string; next: LayerValues } {
  const { g, W } = o;
  const c = model.config;
  const block = model.blocks[l]!;
  const [D, H] = [c.dim, c.heads];
  const Dh = D / H;
  const K = HOPE_CONV;
  const p = `layers.${l}`;
  const col = g.int64([0, H, Dh, 1]); // [B, 1, D] → [B, H, Dh, 1]
  const trT = (t: string) => g.node('Transpose', [t], { perm: [0, 1, 3, 2] });

  const n = o.rmsNorm(x, `${p}.norm1`, D, block.norm1.eps);
  const full = g.node('Concat', [st.conv, n], { axis: 1 }); // [B, K, D]
  const convNext = g.node('Slice', [full, g.int64([1]), g.int64([K]), g.int64([1])]); // [B, K−1, D]
  const taps = W.rawT(`${p}.conv.weight`, D, K); // [K, D]
  const u0 = g.node('ReduceSum', [g.node('Mul', [full, taps]), g.int64([1])], { keepdims: 1 }); // [B, 1, D]
  const u = block.conv.bias ? g.node('Add', [u0, W.raw(`${p}.conv.bias`, [D])]) : u0;
  const q = o.l2(g.node('Reshape', [o.linear(u, `${p}.wq.weight`, D, D), col]), 2); // [B, H, Dh, 1]
  const xt = o.l2(g.node('Reshape', [u, col]), 2);

  // snapshot refresh at chunk starts, then the snapshot MLPs M_ξ
  const S: Record<string, MemValues> = {};
  for (const name of HOPE_MEMORY_NAMES) {
    const m = st.mem[name]!;
    const start = starts.get(name === 'mem' ? c.chunkMem : c.chunkOther)!;
    S[name] = {
      ...m,
      a1: g.node('Where', [start, m.w1, m.a1]),
      a2: g.node('Where', [start, m.w2, m.a2]),
    };
  }
  const apply = (w1: string, w2: string, z: string) =>
    g.node('Add', [z, g.node('MatMul', [w1, o.silu(g.node('MatMul', [w2, z]))])]);
  const snap = (name: string, z: string) => apply(S[name]!.a1, S[name]!.a2, z);
  const meanD = (t: string) => g.node('ReduceMean', [t], { axes: [2], keepdims: 1 }); // [B, H, 1, 1]
  const k = o.l2(snap('k', xt), 2);
  const v = snap('v', xt);
  const alpha = g.node('Sigmoid', [g.node('Add', [meanD(snap('alpha', xt)), W.scalar('alpha_bias', c.alphaBias)])]); // prettier-ignore
  const eta = g.node('Mul', [alpha, g.node('Sigmoid', [g.node('Add', [meanD(snap('eta', xt)), W.scalar('eta_bias', c.etaBias)])])]); // prettier-ignore
  const beta = W.scalar('momentum', c.momentum);
  const kT = trT(k); // [B, H, 1, D]
  // innerGradClip c: each token's (e σ(p)ᵀ, g kᵀ) scaled by s = c / max(‖·‖_F, c), where
  // ‖·‖_F² = ‖e‖²‖σ(p)‖² + ‖g‖²‖k‖² (outer products); squares compared, so no √0
  const c2 = c.innerGradClip ?? 0;
  const sumSq = (t: string) => g.node('ReduceSum', [g.node('Mul', [t, t]), g.int64([2, 3])], { keepdims: 1 });
  const clip =
    c2 > 0
      ? (e: string, a: string, gr: string, kk: string): string => {
          const n2 = g.node('Add', [
            g.node('Mul', [sumSq(e), sumSq(a)]),
            g.node('Mul', [sumSq(gr), sumSq(kk)]),
          ]);
          const lim = W.scalar('inner_grad_clip', c2);
          return g.node('Div', [lim, g.node('Sqrt', [g.node('Max', [n2, g.node('Mul', [lim, lim])])])]);
        }
      : null;
  const mem: Record<string, MemValues> = {};
  for (const name of HOPE_MEMORY_NAMES) {
    const m = S[name]!;
    if (c.staticGenerators === true && name !== 'mem') {
      mem[name] = m; // ablation: the generators keep their init (only the snapshot refreshes)
      continue;
    }
    const target = snap(name, v);
    const pre = g.node('MatMul', [m.a2, k]); // [B, H, hid, 1]
    const act = o.silu(pre);
    let e = g.node('Sub', [g.node('Add', [k, g.node('MatMul', [m.a1, act])]), target]); // [B, H, D, 1]
    let grad = g.node('Mul', [g.node('MatMul', [trT(m.a1), e]), o.siluDerivative(pre)]); // [B, H, hid, 1]
    if (clip !== null) {
      const s = clip(e, act, grad, k); // [B, H, 1, 1]
      e = g.node('Mul', [e, s]);
      grad = g.node('Mul', [grad, s]);
    }
    const s1 = g.node('Sub', [g.node('Mul', [m.s1, beta]), g.node('Mul', [g.node('MatMul', [e, trT(act)]), eta])]); // prettier-ignore
    const s2 = g.node('Sub', [g.node('Mul', [m.s2, beta]), g.node('Mul', [g.node('MatMul', [grad, kT]), eta])]); // prettier-ignore
    let decayed = g.node('Mul', [m.w2, alpha]);
    if (c.precondition !== false) {
      const erase = g.node('Mul', [g.node('MatMul', [g.node('MatMul', [m.w2, k]), kT]), eta]); // η (W2 k) kᵀ
      decayed = g.node('Sub', [decayed, erase]); // W2 (α I − η k kᵀ); without: plain GD (ablation)
    }
    const w2 = g.node('Add', [decayed, s2]);
    const w1 = g.node('Add', [g.node('Mul', [m.w1, alpha]), s1]);
    mem[name] = { w1, w2, s1, s2, a1: m.a1, a2: m.a2 };
  }
  const out = apply(mem.mem!.w1, mem.mem!.w2, q); // [B, H, Dh, 1]
  const normed = o.rmsNorm(g.node('Reshape', [out, g.int64([0, 1, H, Dh])]), `${p}.outNorm`, Dh, block.outNorm.eps); // prettier-ignore
  const gated = g.node('Mul', [
    o.silu(o.linear(n, `${p}.wg.weight`, D, D)),
    g.node('Reshape', [normed, g.int64([0, 1, D])]),
  ]);
  const h = g.node('Add', [x, o.linear(gated, `${p}.wo.weight`, D, D)]);

  // CMS, sequential levels, static within the step (no labels): θ0 + Δ
  const mIn = o.rmsNorm(h, `${p}.norm2`, D, block.norm2.eps);
  const F = c.cmsHidden;
  let z = mIn;
  block.cms.chunkSizes.forEach((_, i) => {
    let w1T = W.rawT(`${p}.cms.w1_${i}`, F, D); // [D, F]
    let w2T = W.rawT(`${p}.cms.w2_${i}`, D, F); // [F, D]
    const d = cmsDelta?.[i];
    if (d) {
      w1T = g.node('Add', [w1T, g.node('Transpose', [d.d1], { perm: [1, 0] })]);
      w2T = g.node('Add', [w2T, g.node('Transpose', [d.d2], { perm: [1, 0] })]);
    }
    z = g.node('Add', [z, g.node('MatMul', [o.silu(g.node('MatMul', [z, w1T])), w2T])]);
  });
  const y = g.node('Add', [h, g.node('Sub', [z, mIn])]);
  return { x: y, next: { conv: convNext, mem } };
}
