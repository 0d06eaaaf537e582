/**
 * TitansMemory: the Titans neural long-term memory (nested-learning.md §3, kernels.md Titans MLP)
 * as a module on tensor ops. Per head a residual 2-layer MLP M(x) = x + W1 σ(W2 x), σ = SiLU,
 * W1 [D, Dh], W2 [Dh, D] (D = Dk = Dv); fast state W1, W2, momenta S1, S2 [B, H, ...].
 * Mini-batch chunks of C tokens: every inner gradient of a chunk is taken at the chunk-start
 * weights W' (the chunk position continues across calls), derived explicitly (§4.4):
 *   p = W2' k,  a = σ(p),  e = k + W1' a − v          (inner loss ½‖M'(k) − v‖²)
 *   ∇W1 = e aᵀ,  ∇W2 = g kᵀ,  g = (W1'ᵀ e) ⊙ σ'(p),  σ'(p) = s (1 + p (1 − s)), s = sigmoid(p)
 *   S ← η_t S − θ_t ∇,   W ← (1 − α_t) W + S         (per layer, shared gates θ, η, α [B, T, H])
 *   o_t = q_t + W1_t σ(W2_t q_t)     (after the token's write; `readAfterWrite: false` reads W_{t−1})
 * Written with tensor ops, so the outer gradient runs through the inner gradient (second order).
 * C = 1 is online gradient descent. `innerGradClip` c > 0 scales each token's inner gradient
 * (∇W1, ∇W2) by s = c / max(‖(∇W1, ∇W2)‖_F, c), i.e. θ_t → θ_t s_t (self-modifying-clip.ts): without
 * it the memory's fast weights can grow without bound within a sequence (issue 16: Titans LMs went
 * non-finite on 256-byte training windows and on formal inputs longer than trained).
 */
import {
  add,
  cat,
  contiguous,
  expand,
  full,
  matmul,
  mul,
  narrow,
  randn,
  sigmoid,
  silu,
  squeeze,
  sub,
  tidy,
  transpose,
  unsqueeze,
  zeros,
  type Tensor,
} from '@nl/tensor';
import { fusedTitansMlp } from './fused-titans.js';
import type { MemoryConfig, MemoryGates } from '../contract.js';
import { MemoryModule, type FastState, type ScanResult } from './base.js';
import { checkChunk } from './check.js';
import { gateAt, mv, outerBH, stackTokens, tokenAt } from './ops.js';
import { checkInnerGradClip, innerGradScale } from './self-modifying-clip.js';

/** Configuration of a Titans memory (dk must equal dv). */
export interface TitansConfig extends MemoryConfig {
  /** Hidden width Dh of the memory MLP (default D). */
  hidden?: number;
  /** Mini-batch chunk size C (default 16). */
  chunkSize?: number;
  /** Read after the token's write (default true). */
  readAfterWrite?: boolean;
  /** Gate values used when a gate is not supplied: θ (0.1), η (0: no momentum), α (0: no forgetting). */
  defaults?: { theta?: number; eta?: number; alpha?: number };
  /** Std of the random initial weights (default 0.02). */
  initStd?: number;
  /**
   * 'loop' (default, the reference) or 'fused': whole chunks run in one native call
   * (kernels/titans-mlp through defineOp); a partial chunk at either end of a call runs the loop.
   */
  impl?: 'loop' | 'fused';
  /**
   * Per-token inner-gradient clip c (0 / undefined: off). With it, the fused path runs one native
   * call per chunk: s needs the chunk-start weights, computed by tensor ops between the calls.
   */
  innerGradClip?: number;
}

/** SiLU derivative σ'(p) = s (1 + p (1 − s)), s = sigmoid(p), on tensor ops. */
export function siluDerivative(p: Tensor): Tensor {
  const s = sigmoid(p);
  return mul(s, add(mul(p, sub(1, s)), 1));
}

/** Titans neural memory with an MLP memory, momentum and forget gate, mini-batch chunks. */
export class TitansMemory extends MemoryModule {
  readonly hidden: number;
  readonly chunkSize: number;
  readonly readAfterWrite: boolean;
  readonly impl: 'loop' | 'fused';
  /** Per-token inner-gradient clip c (0: off). */
  readonly innerGradClip: number;
  /** Meta-learned initial weights W1 [H, D, Dh], W2 [H, Dh, D]. */
  readonly w1: Tensor;
  readonly w2: Tensor;
  private readonly dflt: { theta: number; eta: number; alpha: number };

  constructor(cfg: TitansConfig) {
    super('TitansMemory', cfg);
    if (cfg.dk !== cfg.dv)
      throw new Error(`TitansMemory: dk (${cfg.dk}) must equal dv (${cfg.dv}) (residual MLP)`);
    this.hidden = cfg.hidden ?? cfg.dk;
    if (!Number.isInteger(this.hidden) || this.hidden < 1) {
      throw new Error(`TitansMemory: hidden must be a positive integer, got ${this.hidden}`);
    }
    this.chunkSize = checkChunk('TitansMemory', cfg.chunkSize ?? 16);
    this.readAfterWrite = cfg.readAfterWrite ?? true;
    this.impl = cfg.impl ?? 'loop';
    this.innerGradClip = checkInnerGradClip('TitansMemory', cfg.innerGradClip);
    this.dflt = { theta: 0.1, eta: 0, alpha: 0, ...cfg.defaults };
    const std = cfg.initStd ?? 0.02;
    const D = cfg.dk;
    this.w1 = this.registerParameter(
      'w1',
      tidy(() => mul(randn([cfg.heads, D, this.hidden], { dtype: this.dtype }), std).detach()),
    );
    this.w2 = this.registerParameter(
      'w2',
      tidy(() => mul(randn([cfg.heads, this.hidden, D], { dtype: this.dtype }), std).detach()),
    );
  }

  protected initialState(b: number): FastState {
    const H = this.heads;
    const D = this.dk;
    const w1 = expand(this.w1, [b, H, D, this.hidden]);
    const w2 = expand(this.w2, [b, H, this.hidden, D]);
    const opts = { dtype: this.w1.dtype as 'float32' | 'float64', device: this.w1.device };
    const s1 = zeros([b, H, D, this.hidden], opts);
    const s2 = zeros([b, H, this.hidden, D], opts);
    return { w1, w2, s1, s2, a1: w1, a2: w2 };
  }

  /** Memory read q + W1 σ(W2 q): q [B, H, D] → [B, H, D]. */
  private mlp(w1: Tensor, w2: Tensor, q: Tensor): Tensor {
    return add(q, mv(w1, silu(mv(w2, q))));
  }

  protected scan(
    q: Tensor | null,
    k: Tensor,
    v: Tensor,
    gates: MemoryGates,
    state: FastState,
    pos: number,
  ): ScanResult {
    const T = k.shape[1]!;
    const C = this.chunkSize;
    const head = Math.min(T, (C - (pos % C)) % C);
    const whole = Math.floor((T - head) / C) * C;
    if (this.impl === 'loop' || whole === 0) return this.scanLoop(q, k, v, gates, state, pos);
    const part = (t0: number, t1: number) => ({
      q: q === null ? null : narrow(q, 1, t0, t1 - t0),
      k: narrow(k, 1, t0, t1 - t0),
      v: narrow(v, 1, t0, t1 - t0),
      g: Object.fromEntries(
        Object.entries(gates).map(([n, g]) => [n, narrow(g as Tensor, 1, t0, t1 - t0)]),
      ) as MemoryGates,
    });
    const outs: Tensor[] = [];
    let st = state;
    if (head > 0) {
      const a = part(0, head);
      const r = this.scanLoop(a.q, a.k, a.v, a.g, st, pos);
      if (r.out !== null) outs.push(r.out);
      st = r.state;
    }
    const dtype = k.dtype as 'float32' | 'float64';
    const gate = (g: Tensor | undefined, d: number, len: number): Tensor =>
      g ?? full([k.shape[0]!, len, this.heads], d, { dtype, device: k.device });
    // without the clip all whole chunks go in one call; with it, one call per chunk
    const span = this.innerGradClip > 0 ? C : whole;
    for (let t0 = head; t0 < head + whole; t0 += span) {
      const m = part(t0, t0 + span);
      let theta = gate(m.g.theta, this.dflt.theta, span); // [B, span, H]
      if (this.innerGradClip > 0) theta = mul(theta, this.chunkClipScale(m.k, m.v, st));
      const [o, w1, w2, s1, s2] = fusedTitansMlp(
        [
          m.q ?? m.k,
          m.k,
          m.v,
          theta,
          gate(m.g.eta, this.dflt.eta, span),
          gate(m.g.alpha, this.dflt.alpha, span),
          contiguous(st.w1!),
          contiguous(st.w2!),
          contiguous(st.s1!),
          contiguous(st.s2!),
        ],
        { chunkSize: C, readAfterWrite: this.readAfterWrite, hidden: this.hidden },
      ) as [Tensor, Tensor, Tensor, Tensor, Tensor];
      if (q !== null) outs.push(o);
      st = { w1, w2, s1, s2, a1: w1, a2: w2 }; // the next token starts a chunk: anchors reset there
    }
    if (head + whole < T) {
      const b = part(head + whole, T);
      const r = this.scanLoop(b.q, b.k, b.v, b.g, st, pos + head + whole);
      if (r.out !== null) outs.push(r.out);
      st = r.state;
    }
    return { out: q === null ? null : outs.length === 1 ? outs[0]! : cat(outs, 1), state: st };
  }

  /**
   * The clip factors s [B, C, H] of one chunk's tokens, k, v [B, C, H, D], from the chunk-start
   * weights in `st` — the same inner gradient as scanLoop, all tokens at once.
   */
  private chunkClipScale(k: Tensor, v: Tensor, st: FastState): Tensor {
    const kh = transpose(k, 1, 2); // [B, H, C, D]
    const p = matmul(kh, transpose(st.w2!, -2, -1)); // W2' k: [B, H, C, Dh]
    const act = silu(p);
    const e = sub(add(kh, matmul(act, transpose(st.w1!, -2, -1))), transpose(v, 1, 2)); // [B, H, C, D]
    const g = mul(matmul(e, st.w1!), siluDerivative(p)); // (W1'ᵀ e) ⊙ σ'(p): [B, H, C, Dh]
    const s = innerGradScale(e, act, g, kh, this.innerGradClip); // [B, H, C, 1]
    return transpose(squeeze(s, -1), 1, 2); // [B, C, H]
  }

  private scanLoop(
    q: Tensor | null,
    k: Tensor,
    v: Tensor,
    gates: MemoryGates,
    state: FastState,
    pos: number,
  ): ScanResult {
    let { w1, w2, s1, s2, a1, a2 } = state as Required<FastState>;
    const outs: Tensor[] = [];
    const T = k.shape[1]!;
    for (let t = 0; t < T; t++) {
      if ((pos + t) % this.chunkSize === 0) {
        a1 = w1!; // chunk-start anchors W1', W2'
        a2 = w2!;
      }
      const kt = tokenAt(k, t);
      const qt = q === null ? null : tokenAt(q, t);
      if (qt !== null && !this.readAfterWrite) outs.push(this.mlp(w1!, w2!, qt));
      // Inner gradient at the anchor (explicit, §4.4).
      const p = mv(a2!, kt); // [B, H, Dh]
      const act = silu(p);
      const e = sub(add(kt, mv(a1!, act)), tokenAt(v, t)); // [B, H, D]
      const g = mul(mv(transpose(a1!, -2, -1), e), siluDerivative(p)); // [B, H, Dh]
      let theta = gateAt(gates.theta, t, this.dflt.theta);
      if (this.innerGradClip > 0)
        theta = mul(theta, unsqueeze(innerGradScale(e, act, g, kt, this.innerGradClip), -1)); // [B, H, 1, 1]
      const eta = gateAt(gates.eta, t, this.dflt.eta);
      const alpha = gateAt(gates.alpha, t, this.dflt.alpha);
      // a plain number when no α gate is given: sub(1, number) would make a CPU scalar tensor
      const keep = typeof alpha === 'number' ? 1 - alpha : sub(1, alpha);
      s1 = sub(mul(s1!, eta), mul(outerBH(e, act), theta));
      s2 = sub(mul(s2!, eta), mul(outerBH(g, kt), theta));
      w1 = add(mul(w1!, keep), s1);
      w2 = add(mul(w2!, keep), s2);
      if (qt !== null && this.readAfterWrite) outs.push(this.mlp(w1, w2, qt));
    }
    const out = q === null ? null : outs.length > 0 ? stackTokens(outs) : this.empty(k);
    return { out, state: { w1: w1!, w2: w2!, s1: s1!, s2: s2!, a1: a1!, a2: a2! } };
  }

  protected readState(q: Tensor, state: FastState): Tensor {
    const outs: Tensor[] = [];
    for (let t = 0; t < q.shape[1]!; t++) outs.push(this.mlp(state.w1!, state.w2!, tokenAt(q, t)));
    return outs.length > 0 ? stackTokens(outs) : this.empty(q);
  }

  /** Outputs of a call with no tokens: [B, 0, H, Dv] on x's device. */
  private empty(x: Tensor): Tensor {
    return zeros([x.shape[0]!, 0, this.heads, this.dv], {
      dtype: x.dtype as 'float32' | 'float64',
      device: x.device,
    });
  }
}
