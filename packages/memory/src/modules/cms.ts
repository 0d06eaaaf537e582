/**
 * Continuum Memory System (nested-learning.md §5, spec A11–A14): a set of residual MLP levels
 * y = x + W2 σ(W1 x) (σ = SiLU, W1 [Dh, D], W2 [D, Dh]) with per-level chunk sizes C^(ℓ).
 * Level ℓ's parameters are θ0 (meta-learned `nn` parameters) + Δ (fast state, no grad; the
 * forward uses θ0 + Δ so outer gradients reach θ0 straight through — first order, A11).
 * Updates are driven by a supplied error signal δ_ℓ = ∂L/∂(level ℓ output) [B, T, D]:
 *   G ← G + Σ_tokens ∇_θ ⟨MLP_θ(x_t), δ_t⟩    (∇W2 = δ aᵀ, ∇W1 = ((W2ᵀ δ) ⊙ σ'(h)) xᵀ)
 *   every C^(ℓ) tokens (counted across calls):  Δ ← Δ − η^(ℓ) G,  G ← 0     (sum, not mean: A14)
 * Gradients use the parameters of the last forward, which are the chunk-start parameters when
 * the caller feeds segments that do not cross a level's boundary (e.g. segments of min C).
 * Variants: 'sequential' (chain, Hope Eq. 97), 'independent' (all levels read x, outputs
 * aggregated by learnable weights), 'nested' (chain; when a level fires, every faster level —
 * smaller C — is re-initialized to its meta-learned init, Δ = 0). `flush()` applies partial
 * chunks at sequence end. A level with C ≥ sequence length never fires: a plain MLP.
 * `impl: 'fused'` runs the forward, its backward and `observe` as native ops (cms-fused.ts: whole
 * chunks of GEMMs, the schedule as host integers, no tensor read on the host); 'loop' (default)
 * composes tensor ops and is the reference it is tested against.
 */
import {
  add,
  matmul,
  stack,
  mul,
  noGrad,
  randn,
  silu,
  sub,
  tidy,
  transpose,
  zeros,
  nn,
  type Tensor,
} from '@nl/tensor';
import { siluDerivative } from './titans.js';
import { checkFiniteDebug } from './check.js';
import {
  advanceCounters,
  fusedCmsForward,
  fusedCmsObserve,
  releaseSink,
  type FusedCmsCache,
} from './cms-fused.js';

/** One CMS level. */
export interface CmsLevelConfig {
  /** Chunk size C^(ℓ): tokens between updates (positive integer). */
  chunkSize: number;
  /** Inner learning rate η^(ℓ) (default 1e-2). */
  lr?: number;
}

/** CMS configuration. */
export interface CmsConfig {
  dim: number;
  hidden: number;
  levels: CmsLevelConfig[];
  variant?: 'sequential' | 'independent' | 'nested';
  dtype?: 'float32' | 'float64';
  /** Std of the random initial weights (default 0.02). */
  initStd?: number;
  /** 'loop' (tensor ops, the reference; default) or 'fused' (native ops, cms-fused.ts). */
  impl?: 'loop' | 'fused';
}

/** Zeros of t's shape, dtype and device. */
const zerosLike = (t: Tensor): Tensor =>
  zeros(t.shape, { dtype: t.dtype as 'float32' | 'float64', device: t.device });

/** Per-level schedule state (persists across calls). */
interface LevelState {
  d1: Tensor; // Δ W1 [Dh, D]
  d2: Tensor; // Δ W2 [D, Dh]
  g1: Tensor; // accumulated ∇W1
  g2: Tensor; // accumulated ∇W2
  pending: number; // tokens accumulated since the last update
  updates: number; // updates applied since reset
}

/** A detached copy of the CMS schedule state. */
export interface CmsSnapshot {
  levels: LevelState[];
  tokens: number;
}

export class ContinuumMemory extends nn.Module {
  readonly dim: number;
  readonly hidden: number;
  readonly variant: 'sequential' | 'independent' | 'nested';
  readonly chunkSizes: readonly number[];
  readonly lrs: readonly number[];
  // (getters below: always the registered parameters, also after replaceParameter / to())
  /** Aggregation weights [L] (independent variant only). */
  readonly agg: Tensor | null;
  private levels: LevelState[] = [];
  readonly impl: 'loop' | 'fused';
  /** Last forward: per-level inputs / weights / probes (loop), or the fused op's tensors and one
   * stacked probe [L, B, T, D]; `shape` is x's. */
  private cache: {
    shape: readonly number[];
    inputs: Tensor[];
    w1: Tensor[];
    w2: Tensor[];
    probes: Tensor[];
    fused?: FusedCmsCache;
  } | null = null;
  private _tokens = 0;
  private _frozen = false;

  constructor(cfg: CmsConfig) {
    super();
    const { dim, hidden } = cfg;
    for (const [k, n] of [
      ['dim', dim],
      ['hidden', hidden],
    ] as const) {
      if (!Number.isInteger(n) || n < 1)
        throw new Error(`ContinuumMemory: ${k} must be a positive integer, got ${n}`);
    }
    if (cfg.levels.length === 0) throw new Error('ContinuumMemory: at least one level is required');
    this.dim = dim;
    this.hidden = hidden;
    this.variant = cfg.variant ?? 'sequential';
    this.impl = cfg.impl ?? 'loop';
    if (this.impl !== 'loop' && this.impl !== 'fused')
      throw new Error(`ContinuumMemory: impl must be 'loop' or 'fused', got ${JSON.stringify(cfg.impl)}`);
    this.chunkSizes = cfg.levels.map((l, i) => {
      if (!Number.isInteger(l.chunkSize) || l.chunkSize < 1) {
        throw new Error(
          `ContinuumMemory: level ${i} chunk size must be a positive integer, got ${l.chunkSize}`,
        );
      }
      return l.chunkSize;
    });
    this.lrs = cfg.levels.map((l, i) => {
      const lr = l.lr ?? 1e-2;
      if (!Number.isFinite(lr)) throw new Error(`ContinuumMemory: level ${i} lr must be finite, got ${lr}`);
      return lr;
    });
    const dtype = cfg.dtype ?? 'float32';
    const std = cfg.initStd ?? 0.02;
    cfg.levels.forEach((_, i) => {
      this.registerParameter(
        `w1_${i}`,
        tidy(() => mul(randn([hidden, dim], { dtype }), std).detach()),
      );
      this.registerParameter(
        `w2_${i}`,
        tidy(() => mul(randn([dim, hidden], { dtype }), std).detach()),
      );
    });
    const L = cfg.levels.length;
    this.agg =
      this.variant === 'independent'
        ? this.registerParameter(
            'agg',
            tidy(() =>
              zeros([L], { dtype })
                .add(1 / L)
                .detach(),
            ),
          )
        : null;
    this.reset();
  }

  /** Meta-learned W1 [Dh, D] of every level (the registered parameters `w1_ℓ`). */
  get w1(): Tensor[] {
    return this.levelParams('w1');
  }

  /** Meta-learned W2 [D, Dh] of every level (`w2_ℓ`). */
  get w2(): Tensor[] {
    return this.levelParams('w2');
  }

  private levelParams(kind: 'w1' | 'w2'): Tensor[] {
    const byName = new Map(this.namedParameters());
    return this.chunkSizes.map((_, i) => byName.get(`${kind}_${i}`)!);
  }

  /** Tokens observed since reset. */
  get tokens(): number {
    return this._tokens;
  }

  /** Updates applied per level since reset. */
  get updates(): number[] {
    return this.levels.map((l) => l.updates);
  }

  /** The fast deltas of level ℓ (detached): { w1: ΔW1, w2: ΔW2 }. */
  delta(level: number): { w1: Tensor; w2: Tensor } {
    const l = this.levels[level];
    if (l === undefined) throw new Error(`ContinuumMemory: no level ${level}`);
    return { w1: l.d1, w2: l.d2 };
  }

  /** Forward x [B, T, D] → y [B, T, D] with θ0 + Δ per level; caches level inputs for `observe`. */
  forward(x: Tensor, opts: { probes?: boolean } = {}): Tensor {
    if (x.shape.length !== 3 || x.shape[2] !== this.dim) {
      throw new Error(`ContinuumMemory: x must be [B, T, ${this.dim}], got [${x.shape.join(', ')}]`);
    }
    this.followParameters();
    releaseSink(this.cache?.fused?.sink); // the last forward's backward gradients, never observed
    if (this.impl === 'fused') return this.forwardFused(x, opts.probes === true);
    const inputs: Tensor[] = [];
    const w1s: Tensor[] = [];
    const w2s: Tensor[] = [];
    const probes: Tensor[] = [];
    let h = x;
    let out: Tensor | null = null;
    this.levels.forEach((l, i) => {
      const w1 = add(this.w1[i]!, l.d1); // straight-through: grad reaches θ0
      const w2 = add(this.w2[i]!, l.d2);
      const input = this.variant === 'independent' ? x : h;
      inputs.push(input.detach());
      w1s.push(w1.detach());
      w2s.push(w2.detach());
      let y = add(input, matmul(silu(matmul(input, transpose(w1))), transpose(w2))); // [B, T, D]
      if (opts.probes === true) {
        // A zero leaf added to the level output: after backward its grad is ∂L/∂(level output).
        const probe = zeros([...y.shape], {
          dtype: y.dtype as 'float32' | 'float64',
          device: y.device,
          requiresGrad: true,
        });
        probes.push(probe);
        y = add(y, probe);
      }
      if (this.variant === 'independent') {
        const term = mul(y, this.agg!.narrow(0, i, 1));
        out = out === null ? term : add(out, term);
      } else h = y;
    });
    this.cache = { shape: x.shape, inputs, w1: w1s, w2: w2s, probes };
    return this.variant === 'independent' ? out! : h;
  }

  private forwardFused(x: Tensor, probes: boolean): Tensor {
    const dtype = this.w1[0]!.dtype;
    if (x.dtype !== dtype)
      throw new Error(`ContinuumMemory: x is ${x.dtype} but the parameters are ${dtype}`);
    const probe = probes
      ? zeros([this.levels.length, ...x.shape], {
          dtype: x.dtype as 'float32' | 'float64',
          device: x.device,
          requiresGrad: true,
        })
      : null;
    const r = fusedCmsForward(x, {
      w1: this.w1,
      d1: this.levels.map((l) => l.d1),
      w2: this.w2,
      d2: this.levels.map((l) => l.d2),
      agg: this.agg,
      probe,
    });
    this.cache = { shape: x.shape, inputs: [], w1: [], w2: [], probes: probe ? [probe] : [], fused: r.cache };
    return r.y;
  }

  /**
   * Feeds the error signal of the last forward: errors[ℓ] = ∂L/∂(level ℓ output) [B, T, D].
   * Accumulates per-level gradients and applies every update that falls due (in token order).
   */
  observe(errors: Tensor[]): void {
    const c = this.cache;
    if (c === null) throw new Error('ContinuumMemory.observe: call forward first');
    if (errors.length !== this.levels.length) {
      throw new Error(
        `ContinuumMemory.observe: expected ${this.levels.length} error tensors, got ${errors.length}`,
      );
    }
    const shape = c.shape;
    errors.forEach((e, i) => {
      if (e.shape.join() !== shape.join()) {
        throw new Error(
          `ContinuumMemory.observe: errors[${i}] must be [${shape.join(', ')}], got [${e.shape.join(', ')}]`,
        );
      }
      checkFiniteDebug(`ContinuumMemory.observe: errors[${i}]`, e); // opt-in: a host read
    });
    this.cache = null;
    if (this._frozen) return;
    const T = shape[1]!;
    if (c.fused) {
      const fused = c.fused;
      this.observeFused(
        fused,
        noGrad(() => stack(errors, 0)),
        false,
      );
      return;
    }
    noGrad(() => {
      let pos = 0;
      while (pos < T) {
        // Next event: the nearest level boundary, or the end of this call.
        let n = T - pos;
        for (let i = 0; i < this.levels.length; i++)
          n = Math.min(n, this.chunkSizes[i]! - this.levels[i]!.pending);
        this.levels.forEach((l, i) =>
          this.accumulate(l, c.inputs[i]!, errors[i]!, c.w1[i]!, c.w2[i]!, pos, n),
        );
        pos += n;
        this._tokens += n;
        this.levels.forEach((l, i) => {
          if (l.pending === this.chunkSizes[i]) this.fire(i);
        });
      }
    });
  }

  /**
   * `observe` with the error signals taken from autograd: after `forward(x, { probes: true })` and
   * `loss.backward()`, each level's δ is the gradient of the loss at that level's output.
   */
  observeGrads(): void {
    const c = this.cache;
    if (c === null || c.probes.length === 0) {
      throw new Error('ContinuumMemory.observeGrads: call forward(x, { probes: true }) and backward first');
    }
    if (c.fused) {
      const g = c.probes[0]!.grad;
      if (g === null)
        throw new Error('ContinuumMemory.observeGrads: the levels got no gradient; run backward first');
      checkFiniteDebug('ContinuumMemory.observeGrads: errors', g); // opt-in: a host read
      this.cache = null;
      if (!this._frozen) this.observeFused(c.fused, g, true);
      releaseSink(c.fused.sink);
      return;
    }
    const errs = c.probes.map((p, i) => {
      if (p.grad === null)
        throw new Error(`ContinuumMemory.observeGrads: level ${i} got no gradient; run backward first`);
      return p.grad;
    });
    this.observe(errs);
  }

  /** The fused update from errors [L, B, T, D]; the schedule counters advance on the host. */
  private observeFused(cache: FusedCmsCache, errors: Tensor, fromProbes: boolean): void {
    const T = errors.shape[2]!;
    if (T === 0) return;
    const r = noGrad(() =>
      fusedCmsObserve(
        cache,
        errors,
        {
          d1: this.levels.map((l) => l.d1),
          d2: this.levels.map((l) => l.d2),
          g1: this.levels.map((l) => l.g1),
          g2: this.levels.map((l) => l.g2),
        },
        {
          independent: this.variant === 'independent',
          nested: this.variant === 'nested',
          chunkSizes: this.chunkSizes,
          pending: this.levels.map((l) => l.pending),
          lrs: this.lrs,
        },
        fromProbes,
      ),
    );
    this.levels.forEach((l, i) => {
      l.d1 = r.d1[i]!;
      l.d2 = r.d2[i]!;
      l.g1 = r.g1[i]!;
      l.g2 = r.g2[i]!;
    });
    advanceCounters(this.chunkSizes, this.levels, T);
    this._tokens += T;
  }

  /** Applies the partial chunks pending at sequence end (each counts as an update). */
  flush(): void {
    if (this._frozen) return;
    noGrad(() => this.levels.forEach((l, i) => l.pending > 0 && this.fire(i)));
  }

  private accumulate(
    l: LevelState,
    x: Tensor,
    e: Tensor,
    w1: Tensor,
    w2: Tensor,
    pos: number,
    n: number,
  ): void {
    const xs = x.narrow(1, pos, n).reshape([-1, this.dim]); // [N, D]
    const es = e.narrow(1, pos, n).reshape([-1, this.dim]); // [N, D]
    const h = matmul(xs, transpose(w1)); // [N, Dh]
    const a = silu(h);
    const gh = mul(matmul(es, w2), siluDerivative(h)); // [N, Dh]
    l.g2 = add(l.g2, matmul(transpose(es), a)); // Σ δ aᵀ  [D, Dh]
    l.g1 = add(l.g1, matmul(transpose(gh), xs)); // Σ g xᵀ [Dh, D]
    l.pending += n;
  }

  private fire(i: number): void {
    const l = this.levels[i]!;
    l.d1 = sub(l.d1, mul(l.g1, this.lrs[i]!));
    l.d2 = sub(l.d2, mul(l.g2, this.lrs[i]!));
    l.g1 = zerosLike(l.g1);
    l.g2 = zerosLike(l.g2);
    l.pending = 0;
    l.updates++;
    if (this.variant !== 'nested') return;
    this.levels.forEach((f, j) => {
      if (this.chunkSizes[j]! < this.chunkSizes[i]!) {
        f.d1 = zerosLike(f.d1);
        f.d2 = zerosLike(f.d2);
      }
    });
  }

  /**
   * The schedule state lives on the parameters' device: after `to(device)` (which moves the
   * parameters only) the first forward moves Δ and the accumulators there (one transfer each).
   */
  private followParameters(): void {
    const device = this.w1[0]!.device;
    for (const l of this.levels) {
      if (l.d1.device === device) continue;
      l.d1 = l.d1.to(device);
      l.d2 = l.d2.to(device);
      l.g1 = l.g1.to(device);
      l.g2 = l.g2.to(device);
    }
  }

  /** Frees the schedule state (Δ and accumulators) and the forward cache; called by dispose(). */
  override disposeState(): void {
    this.disposeLevels();
    for (const t of this.cache?.probes ?? []) t.dispose();
    releaseSink(this.cache?.fused?.sink);
    this.levels = [];
    this.cache = null;
  }

  /** Disposes the current Δ and accumulators (idempotent; snapshots hold clones, not these). */
  private disposeLevels(): void {
    const held = new Set<Tensor>();
    for (const l of this.levels) for (const t of [l.d1, l.d2, l.g1, l.g2]) held.add(t);
    for (const t of held) t.dispose();
  }

  /** Drops every Δ, accumulator and counter (disposing the previous ones). */
  reset(): void {
    this.disposeLevels();
    this.levels = this.w1.map((w1, i) => {
      const s1 = zerosLike(w1);
      const s2 = zerosLike(this.w2[i]!);
      return { d1: s1, d2: s2, g1: s1, g2: s2, pending: 0, updates: 0 };
    });
    this._tokens = 0;
    this.cache = null;
  }

  snapshot(): CmsSnapshot {
    const levels = this.levels.map((l) => ({
      ...l,
      d1: l.d1.clone(),
      d2: l.d2.clone(),
      g1: l.g1.clone(),
      g2: l.g2.clone(),
    }));
    return { levels, tokens: this._tokens };
  }

  restore(s: CmsSnapshot): void {
    this.levels = s.levels.map((l) => ({
      ...l,
      d1: l.d1.clone(),
      d2: l.d2.clone(),
      g1: l.g1.clone(),
      g2: l.g2.clone(),
    }));
    this._tokens = s.tokens;
    this.cache = null;
  }

  /** No updates from now on (observe and flush only validate). */
  freeze(): void {
    this._frozen = true;
  }

  unfreeze(): void {
    this._frozen = false;
  }

  /** Leaves of the last `forward(x, { probes: true })` collecting δ (empty without probes). */
  get probes(): readonly Tensor[] {
    return this.cache?.probes ?? [];
  }
  get frozen(): boolean {
    return this._frozen;
  }
}
