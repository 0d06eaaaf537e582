/**
 * SelfModifyingTitans: Hope's sequence memory (nested-learning.md §4), token by token on tensor
 * ops. Per head, memories □ ∈ {k, v, eta, alpha, mem} (+ q with `adaptiveQ`), each a residual
 * MLP M(z) = z + W1 σ(W2 z) (W1 [D, Dh], W2 [Dh, D], σ = SiLU) with meta-learned init
 * (child module `memories[□]`, parameters w1 [H, D, Dh], w2 [H, Dh, D]). Recommended choices (§8):
 *   generators from the chunk-start snapshot ξ (A4, A6):  k = l2norm(M_k,ξ(x)), v = M_v,ξ(x),
 *     α = sigmoid(mean_D M_α,ξ(x) + alphaBias), η = α · sigmoid(mean_D M_η,ξ(x) + etaBias)   (A9)
 *   self-generated targets v̂_□ = M_□,ξ(v); ℓ2 inner loss ½‖M(k) − v̂‖² at the snapshot (A10):
 *     p = W2ξ k, a = σ(p), e = k + W1ξ a − v̂, ∇W1 = e aᵀ, ∇W2 = ((W1ξᵀ e) ⊙ σ'(p)) kᵀ
 *   DGD + weight decay + momentum β (A7, A8):  S ← β S − η ∇,
 *     W2 ← W2 (α I − η k kᵀ) + S2,   W1 ← α W1 + S1
 *   two chunk sizes: chunkMem for M_mem, chunkOther for the rest (A5); static q (A3);
 *   output o_t = M_mem,t(q_t) after the token's write (A6; `readSnapshot: true` reads M_mem,ξ).
 * The outer gradient flows through every write to every init (A18).
 */
import {
  add,
  div,
  expand,
  stack,
  mean,
  mul,
  norm,
  randn,
  sigmoid,
  silu,
  sub,
  tidy,
  transpose,
  unsqueeze,
  zeros,
  nn,
  type Tensor,
} from '@nl/tensor';
import { checkChunk, checkSeq } from './check.js';
import { siluDerivative } from './titans.js';
import { mv, outerBH, stackTokens, tokenAt } from './ops.js';
import { selfModChunked } from './self-modifying-chunked.js';
import { checkInnerGradClip, innerGradScale } from './self-modifying-clip.js';
import { CUDA_NO_VALUE_INPUT } from './self-modifying-cuda.js';
import { memoryOf, selfModFused, stackMemories, type StackedSelfModState } from './self-modifying-fused.js';
import { SELF_MOD_STATES } from '../kernels/self-mod/native.js';

/** Configuration of the self-modifying memory (D = head dim). */
export interface SelfModifyingConfig {
  heads: number;
  dim: number;
  hidden?: number;
  chunkMem?: number;
  chunkOther?: number;
  /** Momentum β of the inner rule (default 0.9; 0 disables). */
  momentum?: number;
  alphaBias?: number;
  etaBias?: number;
  adaptiveQ?: boolean;
  readSnapshot?: boolean;
  initStd?: number;
  /**
   * Per-memory init stds overriding `initStd` for w1 and/or w2, e.g. `{ mem: { w2: 1 } }`. A w2
   * of std ~1 on the unit-norm inputs makes the features σ(W2 k) O(1), so the memory's first
   * writes and reads are not vanishingly small (with both layers at 0.02 the inner gradient
   * e aᵀ, a = σ(W2 k) ≈ W2 k / 2, and the read W1 σ(W2 q) are products of two small inits).
   */
  memoryInitStd?: Partial<Record<string, { w1?: number; w2?: number }>>;
  dtype?: 'float32' | 'float64';
  /**
   * Ablation switch (default false): the generator memories k, v, η, α (+ q) never write, so they
   * stay the meta-learned static maps (the paper's "without self-modifying generators"); only
   * M_mem learns in context. 'loop' and 'chunked' only.
   */
  staticGenerators?: boolean;
  /**
   * Ablation switch (default true): DGD's preconditioner, the −η W2 k kᵀ term of
   * W2 ← W2 (α I − η k kᵀ) + S2. False gives plain gradient descent with decay and momentum,
   * W2 ← α W2 + S2. 'loop' and 'chunked' only.
   */
  precondition?: boolean;
  /**
   * Inner-gradient clipping (default 0 = off): each token's inner gradient of each memory is
   * scaled to a Frobenius norm of at most this value (self-modifying-clip.ts), which bounds the fast
   * weights' growth to linear in the tokens. Without it a trained model's fast weights can grow
   * ~30× per chunk and overflow within one 48-token sequence (issue 16). Every impl; 'fused' on the
   * CPU and on CUDA (both kernel forms).
   */
  innerGradClip?: number;
  /**
   * 'loop' (default): token by token; 'chunked': batched segments (self-modifying-chunked.ts);
   * 'fused': one native op per call, forward and backward in C++ (self-modifying-fused.ts).
   */
  impl?: 'loop' | 'chunked' | 'fused';
  /**
   * impl 'fused' only: forward and backward in chunk ("dual") form (default true; CPU and CUDA
   * kernels self_mod_dual*.h), or token by token (false). Same results to rounding.
   */
  dual?: boolean;
}

/** Options of `SelfModifyingTitans.forward`. */
export interface SelfModForwardOptions {
  /**
   * Separate value input [B, T, H, D]: v = M_v,ξ(xv) (default: x). 'loop', 'chunked', and 'fused' on
   * the CPU ('cpu', 'sim'; its CUDA kernels have none and refuse it).
   */
  xv?: Tensor;
}

/** One residual MLP memory's meta-learned init: w1 [H, D, Dh], w2 [H, Dh, D]. */
export class SelfModMlp extends nn.Module {
  readonly w1: Tensor;
  readonly w2: Tensor;
  /** `std`: one std for both layers, or each layer's. */
  constructor(
    h: number,
    d: number,
    dh: number,
    std: number | { w1: number; w2: number },
    dtype: 'float32' | 'float64',
  ) {
    super();
    const s = typeof std === 'number' ? { w1: std, w2: std } : std;
    // tidy frees the randn draws and the scaled (pre-detach) tensors: only the detached results live
    this.w1 = this.registerParameter(
      'w1',
      tidy(() => mul(randnLike([h, d, dh], dtype), s.w1).detach()),
    );
    this.w2 = this.registerParameter(
      'w2',
      tidy(() => mul(randnLike([h, dh, d], dtype), s.w2).detach()),
    );
  }
  forward(): never {
    throw new Error('SelfModMlp holds parameters only; use SelfModifyingTitans.forward');
  }
}

function randnLike(shape: number[], dtype: 'float32' | 'float64'): Tensor {
  return randn(shape, { dtype });
}

interface MemState {
  w1: Tensor; // [B, H, D, Dh]
  w2: Tensor; // [B, H, Dh, D]
  s1: Tensor;
  s2: Tensor;
  a1: Tensor; // snapshot (chunk-start) weights
  a2: Tensor;
}

/** One memory's fast state: weights w1/w2, momenta s1/s2, chunk-start snapshot a1/a2 (all [B, H, …]). */
export type SelfModMemState = MemState;

/** Snapshot of the fast state. */
export interface SelfModSnapshot {
  state: Record<string, MemState> | null;
  tokens: number;
}

export class SelfModifyingTitans extends nn.Module {
  readonly heads: number;
  readonly dim: number;
  readonly hidden: number;
  readonly names: readonly string[];
  readonly memories: Record<string, SelfModMlp> = {};
  readonly impl: NonNullable<SelfModifyingConfig['impl']>;
  private readonly cfg: Required<
    Omit<SelfModifyingConfig, 'hidden' | 'initStd' | 'memoryInitStd' | 'dtype' | 'impl'>
  >;
  /** Per-memory state ('loop', 'chunked'; 'fused' after a `restore`), null after reset. */
  private state: Record<string, MemState> | null = null;
  /** 'fused': the state as the fused op carries it, memories stacked (at most one of the two is set). */
  private stacked: StackedSelfModState | null = null;
  private _tokens = 0;
  private _frozen = false;

  constructor(cfg: SelfModifyingConfig) {
    super();
    for (const [key, n] of [
      ['heads', cfg.heads],
      ['dim', cfg.dim],
    ] as const) {
      if (!Number.isInteger(n) || n < 1)
        throw new Error(`SelfModifyingTitans: ${key} must be a positive integer, got ${n}`);
    }
    this.heads = cfg.heads;
    this.dim = cfg.dim;
    this.hidden = cfg.hidden ?? cfg.dim;
    this.impl = cfg.impl ?? 'loop';
    if (this.impl !== 'loop' && this.impl !== 'chunked' && this.impl !== 'fused')
      throw new Error(
        `SelfModifyingTitans: impl must be 'loop', 'chunked' or 'fused', got ${String(this.impl)}`,
      );
    this.cfg = {
      heads: cfg.heads,
      dim: cfg.dim,
      chunkMem: checkChunk('SelfModifyingTitans', cfg.chunkMem ?? 16),
      chunkOther: checkChunk('SelfModifyingTitans', cfg.chunkOther ?? 8),
      momentum: cfg.momentum ?? 0.9,
      alphaBias: cfg.alphaBias ?? 4,
      etaBias: cfg.etaBias ?? -2,
      adaptiveQ: cfg.adaptiveQ ?? false,
      readSnapshot: cfg.readSnapshot ?? false,
      staticGenerators: cfg.staticGenerators ?? false,
      precondition: cfg.precondition ?? true,
      dual: cfg.dual ?? true,
      innerGradClip: checkInnerGradClip('SelfModifyingTitans', cfg.innerGradClip),
    };
    if (this.impl === 'fused' && (this.cfg.staticGenerators || !this.cfg.precondition))
      throw new Error(
        "SelfModifyingTitans: staticGenerators / precondition: false are ablation switches of impl 'loop' and 'chunked'; impl 'fused' (and its CUDA kernels) has no such switch",
      );
    this.names = ['k', 'v', 'eta', 'alpha', 'mem', ...(this.cfg.adaptiveQ ? ['q'] : [])];
    const per = cfg.memoryInitStd ?? {};
    for (const n of Object.keys(per))
      if (!this.names.includes(n))
        throw new Error(
          `SelfModifyingTitans: memoryInitStd names unknown memory '${n}' (memories: ${this.names.join(', ')})`,
        );
    for (const n of this.names) {
      const std = cfg.initStd ?? 0.02;
      const s = { w1: per[n]?.w1 ?? std, w2: per[n]?.w2 ?? std };
      for (const [w, v] of Object.entries(s))
        if (!(Number.isFinite(v) && v >= 0))
          throw new Error(
            `SelfModifyingTitans: init std of ${n}.${w} must be a finite number >= 0, got ${v}`,
          );
      this.memories[n] = this.registerModule(
        n,
        new SelfModMlp(cfg.heads, cfg.dim, this.hidden, s, cfg.dtype ?? 'float32'),
      );
    }
  }

  get tokens(): number {
    return this._tokens;
  }
  get frozen(): boolean {
    return this._frozen;
  }

  private init(b: number): Record<string, MemState> {
    const out: Record<string, MemState> = {};
    for (const n of this.names) {
      const m = this.memories[n]!;
      const w1 = expand(m.w1, [b, ...m.w1.shape]);
      const w2 = expand(m.w2, [b, ...m.w2.shape]);
      const dtype = m.w1.dtype as 'float32' | 'float64';
      out[n] = {
        w1,
        w2,
        s1: zeros(w1.shape, { dtype, device: w1.device }),
        s2: zeros(w2.shape, { dtype, device: w1.device }),
        a1: w1,
        a2: w2,
      };
    }
    return out;
  }

  /** 'fused' init: the memories' inits stacked and expanded over the batch, zero momenta. */
  private initStacked(b: number): StackedSelfModState {
    const ms = this.names.map((n) => this.memories[n]!);
    const w1 = stack(
      ms.map((m) => m.w1),
      0,
    ); // [M, H, D, Dh]
    const w2 = stack(
      ms.map((m) => m.w2),
      0,
    ); // [M, H, Dh, D]
    // materialised once here (a pooled copy on the graph): the kernels need contiguous states, and
    // a broadcast view would be copied again by every forward and backward call that reads it
    const b1 = expand(w1, [b, ...w1.shape]).contiguous(); // [B, M, H, D, Dh]
    const b2 = expand(w2, [b, ...w2.shape]).contiguous(); // [B, M, H, Dh, D]
    const opts = { dtype: w1.dtype as 'float32' | 'float64', device: w1.device };
    const s = { w1: b1, w2: b2, s1: zeros(b1.shape, opts), s2: zeros(b2.shape, opts), a1: b1, a2: b2 };
    return SELF_MOD_STATES.map((k) => s[k]);
  }

  /** The 'fused' forward: the state stays stacked from call to call. */
  private forwardFused(x: Tensor, q: Tensor, b: number, T: number, xv?: Tensor): Tensor {
    const st = this.stacked ?? (this.state ? stackMemories(this.names, this.state) : this.initStacked(b));
    if (st[0]!.shape[0] !== b)
      throw new Error(`SelfModifyingTitans: batch ${b} differs from the carried state; call reset()`);
    const r = selfModFused({
      ...this.cfg,
      names: this.names,
      state: st,
      x,
      q,
      ...(xv === undefined ? {} : { xv }),
      tokens: this._tokens,
      frozen: this._frozen,
    });
    if (!this._frozen) {
      this.stacked = r.state;
      this.state = null;
      this._tokens += T;
    }
    return r.out;
  }

  /** Per-memory state (views of the stacked one for 'fused'), null after reset. */
  private perMemory(): Record<string, MemState> | null {
    if (this.stacked === null) return this.state;
    const st = this.stacked;
    return Object.fromEntries(this.names.map((n, i) => [n, memoryOf(st, i)]));
  }

  /** M(z) = z + W1 σ(W2 z): z [B, H, D] → [B, H, D]. */
  private apply(w1: Tensor, w2: Tensor, z: Tensor): Tensor {
    return add(z, mv(w1, silu(mv(w2, z))));
  }

  /**
   * Reads and writes x [B, T, H, D]; static queries q [B, T, H, D] (ignored with adaptiveQ,
   * where q = M_q,ξ(x)). Returns [B, T, H, D]. Frozen: reads the current state, no writes.
   * `opts.xv` [B, T, H, D]: a separate value input, v = M_v,ξ(xv) instead of M_v,ξ(x) (k, η, α
   * (+ q) keep x); every impl, 'fused' on the CPU only (its CUDA kernels refuse it).
   */
  forward(x: Tensor, q: Tensor, opts: SelfModForwardOptions = {}): Tensor {
    const [b, T] = checkSeq('SelfModifyingTitans', 'x', x, this.heads, this.dim);
    const [bq, tq] = checkSeq('SelfModifyingTitans', 'q', q, this.heads, this.dim);
    if (bq !== b || tq !== T)
      throw new Error(`SelfModifyingTitans: q [B, T] = [${bq}, ${tq}] differs from x's [${b}, ${T}]`);
    const xv = opts.xv;
    if (xv !== undefined) {
      const [bv, tv] = checkSeq('SelfModifyingTitans', 'xv', xv, this.heads, this.dim);
      if (bv !== b || tv !== T)
        throw new Error(`SelfModifyingTitans: xv [B, T] = [${bv}, ${tv}] differs from x's [${b}, ${T}]`);
      if (this.impl === 'fused' && x.device.startsWith('cuda'))
        throw new Error(`${CUDA_NO_VALUE_INPUT} (forward's opts.xv on device '${x.device}')`);
    }
    if (this.impl === 'fused') return this.forwardFused(x, q, b, T, xv);
    const st = this.state ?? this.init(b);
    if (Object.values(st)[0]!.w1.shape[0] !== b)
      throw new Error(`SelfModifyingTitans: batch ${b} differs from the carried state; call reset()`);
    if (this.impl !== 'loop') {
      const r = selfModChunked({
        ...this.cfg,
        names: this.names,
        state: st,
        x,
        q,
        ...(xv === undefined ? {} : { xv }),
        tokens: this._tokens,
        frozen: this._frozen,
      });
      if (!this._frozen) {
        this.state = r.state;
        this._tokens += T;
      }
      return r.out;
    }
    const S: Record<string, MemState> = { ...st };
    const outs: Tensor[] = [];
    const beta = this.cfg.momentum;
    for (let t = 0; t < T; t++) {
      const pos = this._tokens + t;
      if (!this._frozen) {
        for (const n of this.names) {
          const c = n === 'mem' ? this.cfg.chunkMem : this.cfg.chunkOther;
          if (pos % c === 0) S[n] = { ...S[n]!, a1: S[n]!.w1, a2: S[n]!.w2 };
        }
      }
      const xt = tokenAt(x, t);
      const snap = (n: string, z: Tensor): Tensor => this.apply(S[n]!.a1, S[n]!.a2, z);
      const qt = this.cfg.adaptiveQ ? snap('q', xt) : tokenAt(q, t);
      if (this._frozen) {
        outs.push(this.apply(S.mem!.w1, S.mem!.w2, qt));
        continue;
      }
      const kr = snap('k', xt);
      const kt = div(kr, add(unsqueeze(norm(kr, 2, -1), -1), 1e-6)); // ℓ2-normalized [B, H, D]
      const vt = snap('v', xv === undefined ? xt : tokenAt(xv, t));
      const alpha = sigmoid(add(mean(snap('alpha', xt), -1, true), this.cfg.alphaBias)); // [B, H, 1]
      const eta = mul(alpha, sigmoid(add(mean(snap('eta', xt), -1, true), this.cfg.etaBias)));
      const a4 = unsqueeze(alpha, -1); // [B, H, 1, 1]
      const e4 = unsqueeze(eta, -1);
      for (const n of this.names) {
        if (this.cfg.staticGenerators && n !== 'mem') continue; // generators keep their init
        const m = S[n]!;
        const target = snap(n, vt); // v̂_□
        const p = mv(m.a2, kt);
        const act = silu(p);
        let e = sub(add(kt, mv(m.a1, act)), target);
        let g = mul(mv(transpose(m.a1, -2, -1), e), siluDerivative(p));
        if (this.cfg.innerGradClip > 0) {
          const s = innerGradScale(e, act, g, kt, this.cfg.innerGradClip); // [B, H, 1]
          e = mul(e, s);
          g = mul(g, s);
        }
        const s1 = sub(mul(m.s1, beta), mul(outerBH(e, act), e4));
        const s2 = sub(mul(m.s2, beta), mul(outerBH(g, kt), e4));
        const decayed = mul(m.w2, a4);
        const w2 = this.cfg.precondition
          ? add(sub(decayed, mul(outerBH(mv(m.w2, kt), kt), e4)), s2) // W2(αI − η k kᵀ) + S2
          : add(decayed, s2); // plain GD: α W2 + S2
        const w1 = add(mul(m.w1, a4), s1);
        S[n] = { w1, w2, s1, s2, a1: m.a1, a2: m.a2 };
      }
      const mem = S.mem!;
      outs.push(this.cfg.readSnapshot ? this.apply(mem.a1, mem.a2, qt) : this.apply(mem.w1, mem.w2, qt));
    }
    if (!this._frozen) {
      this.state = S;
      this._tokens += T;
    }
    return T > 0
      ? stackTokens(outs)
      : zeros([b, 0, this.heads, this.dim], { dtype: x.dtype as 'float32' | 'float64', device: x.device });
  }

  /** Fast weights of memory `name` (null after reset). */
  fast(name: string): { w1: Tensor; w2: Tensor } | null {
    const m = this.perMemory()?.[name];
    return m === undefined ? null : { w1: m.w1, w2: m.w2 };
  }

  reset(): void {
    this.state = null;
    this.stacked = null;
    this._tokens = 0;
  }

  /**
   * The live fast state per memory name (null after reset): the tensors themselves, not copies,
   * still on the autograd graph of the calls that wrote them (see `snapshot()` for detached
   * copies). Read-only view for callers that carry the state across calls (e.g. @nl/hope's
   * online scheme); install a new one with `restore`.
   */
  liveState(): Readonly<Record<string, Readonly<SelfModMemState>>> | null {
    return this.perMemory();
  }

  /**
   * The live state as a flat list of tensors (null after reset), for callers that cut the graph
   * between calls (@nl/hope's online scheme): 'fused' lists its six stacked tensors
   * (SELF_MOD_STATES order, [B, M, H, …]), the others every memory's six (names × SELF_MOD_STATES).
   * Same lifetime and graph as `liveState`; `installCarried` takes a list of the same layout.
   */
  carriedState(): Tensor[] | null {
    if (this.stacked !== null) return [...this.stacked];
    const st = this.state;
    return st === null ? null : this.names.flatMap((n) => SELF_MOD_STATES.map((k) => st[n]![k]));
  }

  /** Installs tensors laid out as `carriedState()` returned them (same shapes; shared, not copied). */
  installCarried(ts: Tensor[]): void {
    const k = SELF_MOD_STATES.length;
    if (this.stacked !== null && ts.length === k) {
      this.stacked = [...ts];
      return;
    }
    if (this.stacked !== null || this.state === null || ts.length !== this.names.length * k)
      throw new Error(
        `SelfModifyingTitans.installCarried: got ${ts.length} tensors; expected the layout carriedState() returned (${this.stacked !== null ? k : this.state === null ? 'none: no state' : this.names.length * k})`,
      );
    const out: Record<string, MemState> = {};
    this.names.forEach((n, i) => {
      const m = {} as MemState;
      SELF_MOD_STATES.forEach((s, j) => (m[s] = ts[i * k + j]!));
      out[n] = m;
    });
    this.state = out;
  }

  snapshot(): SelfModSnapshot {
    const st = this.perMemory();
    if (st === null) return { state: null, tokens: this._tokens };
    const out: Record<string, MemState> = {};
    for (const [n, m] of Object.entries(st)) {
      out[n] = {
        w1: m.w1.detach().clone(),
        w2: m.w2.detach().clone(),
        s1: m.s1.detach().clone(),
        s2: m.s2.detach().clone(),
        a1: m.a1.detach().clone(),
        a2: m.a2.detach().clone(),
      };
    }
    return { state: out, tokens: this._tokens };
  }

  restore(s: SelfModSnapshot): void {
    this.state = s.state === null ? null : { ...s.state };
    this.stacked = null; // 'fused' stacks a restored state at its next call
    this._tokens = s.tokens;
  }

  freeze(): void {
    this._frozen = true;
  }
  unfreeze(): void {
    this._frozen = false;
  }
}
