/**
 * One Hope layer (nested-learning.md §6.2):
 *   n   = RMSNorm(x)                                   x [B, T, D]
 *   u   = CausalDepthwiseConv1d(n, window 4)           (3-token cache carried across calls)
 *   q   = L2Norm(W_q u) per head                       [B, T, H, D/H]   (static q, A3)
 *   o   = SelfModifyingTitans(L2Norm(u) per head, q)   [B, T, H, D/H]   (state carried across calls)
 *   h   = x + W_o (SiLU(W_g n) ⊙ OutNorm(o))            OutNorm: RMSNorm over each head
 *   m   = RMSNorm(h);  out = h + (CMS(m) − m)           CMS: sequential residual MLP levels
 * CMS(m) = m + Σ_ℓ MLP_ℓ(z_{ℓ−1}) is a residual chain, so `CMS(m) − m` adds the levels'
 * increments to the residual stream (not a second copy of m).
 * The memories read ℓ2-normalized inputs per head, on the unit scale of the keys and queries:
 * with raw inputs, v ≈ x has norm ≈ √(D/H) while ‖k‖ = 1 and the MLP memories diverged within ~50
 * tokens; with a fixed 1/√(D/H) scale a 10-minute training run still went to NaN at step 542
 * (the conv weights, hence ‖u‖, grow during training).
 * With `valueStream` the v generator reads its own stream instead of ℓ2(u) (README "The value stream"):
 *   x_v = L2Norm(CausalDepthwiseConv1d_v(W_v n)) per head   (own 3-token cache carried across calls)
 * Fast state of the layer: the Titans memories, the CMS Δ / schedule, and the conv cache(s).
 */
import { add, cat, mul, narrow, reshape, silu, sub, zeros, nn, type Tensor } from '@nl/tensor';
import {
  ContinuumMemory,
  SelfModifyingTitans,
  type CmsSnapshot,
  type SelfModifyingConfig,
  type SelfModSnapshot,
} from '@nl/memory';
import { l2Normalize } from '../kernels/l2-normalize.js';
import { linear, residualStd } from './common.js';
import { HOPE_CONV, type HopeConfig } from './hope-config.js';

/** Detached copy of one layer's fast state. */
export interface HopeBlockState {
  titans: SelfModSnapshot;
  cms: CmsSnapshot;
  /** Last HOPE_CONV − 1 conv inputs [B, 3, D], or null at a sequence start. */
  conv: Tensor | null;
  /** valueStream only: the value conv's last HOPE_CONV − 1 inputs [B, 3, D], or null at a start. */
  convV?: Tensor | null;
}

/** ℓ2-normalizes the last dim: x / (‖x‖ + 1e-6), one fused op (kernels/l2-normalize.ts). */
const l2 = (x: Tensor): Tensor => l2Normalize(x);

export class HopeBlock extends nn.Module {
  readonly norm1: nn.RMSNorm;
  readonly conv: nn.CausalConv1d;
  readonly wq: nn.Linear;
  readonly titans: SelfModifyingTitans;
  readonly outNorm: nn.RMSNorm;
  readonly wg: nn.Linear;
  readonly wo: nn.Linear;
  readonly norm2: nn.RMSNorm;
  readonly cms: ContinuumMemory;
  /** valueStream: W_v and the value stream's causal conv (null without it). */
  readonly wv: nn.Linear | null = null;
  readonly convV: nn.CausalConv1d | null = null;
  private readonly heads: number;
  private readonly headDim: number;
  /** Conv cache [B, 3, D] (inputs of the last 3 tokens), null = zeros (sequence start). */
  convCache: Tensor | null = null;
  /** valueStream: the value conv's cache [B, 3, D], null = zeros (sequence start). */
  convVCache: Tensor | null = null;

  constructor(c: HopeConfig) {
    super();
    const d = c.dim;
    const opts = { dtype: c.dtype };
    this.heads = c.heads;
    this.headDim = d / c.heads;
    this.norm1 = this.registerModule('norm1', new nn.RMSNorm(d, opts));
    this.conv = this.registerModule('conv', new nn.CausalConv1d(d, HOPE_CONV, opts));
    this.wq = this.registerModule('wq', linear(d, d, c.dtype));
    // drawn right after W_q: the init of issue 16's value-stream experiment (README "The value stream")
    if (c.valueStream === true) {
      this.wv = this.registerModule('wv', linear(d, d, c.dtype));
      this.convV = this.registerModule('convV', new nn.CausalConv1d(d, HOPE_CONV, opts));
    }
    const smCfg: SelfModifyingConfig = {
      heads: c.heads,
      dim: this.headDim,
      hidden: c.memoryHidden,
      chunkMem: c.chunkMem,
      chunkOther: c.chunkOther,
      momentum: c.momentum,
      etaBias: c.etaBias,
      alphaBias: c.alphaBias,
      dtype: c.dtype,
    };
    if (Object.keys(c.memoryInitStd).length > 0) smCfg.memoryInitStd = c.memoryInitStd;
    if (c.staticGenerators) smCfg.staticGenerators = true;
    if (!c.precondition) smCfg.precondition = false;
    if (c.innerGradClip !== undefined) smCfg.innerGradClip = c.innerGradClip;
    if (c.selfModImpl !== 'loop') smCfg.impl = c.selfModImpl as SelfModifyingConfig['impl'];
    this.titans = this.registerModule('titans', new SelfModifyingTitans(smCfg));
    const impl = this.titans.impl;
    if (c.selfModImpl !== 'loop' && impl !== c.selfModImpl) {
      throw new Error(
        `HopeLM config: selfModImpl '${c.selfModImpl}' is not supported by this @nl/memory SelfModifyingTitans (it reports impl ${JSON.stringify(impl)})`,
      );
    }
    this.outNorm = this.registerModule('outNorm', new nn.RMSNorm(this.headDim, opts));
    this.wg = this.registerModule('wg', linear(d, d, c.dtype));
    this.wo = this.registerModule('wo', linear(d, d, c.dtype, residualStd(c.layers)));
    this.norm2 = this.registerModule('norm2', new nn.RMSNorm(d, opts));
    this.cms = this.registerModule(
      'cms',
      new ContinuumMemory({
        dim: d,
        hidden: c.cmsHidden,
        levels: c.cmsLevels,
        variant: 'sequential',
        dtype: c.dtype,
        impl: c.cmsImpl,
      }),
    );
  }

  /** The value stream: x_v [B, T, H, Dh] from n [B, T, D], continuing the value conv's cache. */
  private valueStream(n: Tensor, hd: number[]): Tensor {
    const [b, t, d] = n.shape as [number, number, number];
    const k1 = HOPE_CONV - 1;
    const z = this.wv!.forward(n); // [B, T, D]
    const c =
      this.convVCache ?? zeros([b, k1, d], { dtype: z.dtype as 'float32' | 'float64', device: z.device });
    if (c.shape[0] !== b)
      throw new Error(`HopeBlock: batch ${b} differs from the value stream's carried state ${c.shape[0]}; reset first`); // prettier-ignore
    const full = cat([c, z], 1); // [B, 3 + T, D]
    this.convVCache = narrow(full, 1, t, k1); // last 3 inputs
    return l2(reshape(narrow(this.convV!.forward(full), 1, k1, t), hd));
  }

  /**
   * x [B, T, D] → [B, T, D], continuing the fast state. `probes` marks the CMS level outputs so
   * that after a backward `cms.observeGrads()` can take δ = ∂L/∂(level output).
   */
  forward(x: Tensor, opts: { probes?: boolean } = {}): Tensor {
    const [b, t, d] = x.shape as [number, number, number];
    const n = this.norm1.forward(x);
    const k1 = HOPE_CONV - 1;
    const cache =
      this.convCache ?? zeros([b, k1, d], { dtype: x.dtype as 'float32' | 'float64', device: x.device });
    if (cache.shape[0] !== b)
      throw new Error(
        `HopeBlock: batch ${b} differs from the carried state's ${cache.shape[0]}; reset first`,
      );
    const full = cat([cache, n], 1); // [B, 3 + T, D]
    const u = narrow(this.conv.forward(full), 1, k1, t); // [B, T, D]
    this.convCache = narrow(full, 1, t, k1); // last 3 inputs
    const hd = [b, t, this.heads, this.headDim];
    const qr = reshape(this.wq.forward(u), hd); // [B, T, H, Dh]
    const q = l2(qr);
    const sm = this.wv === null ? {} : { xv: this.valueStream(n, hd) }; // xv [B, T, H, Dh]
    const o = this.titans.forward(l2(reshape(u, hd)), q, sm); // [B, T, H, Dh]
    const gated = mul(silu(this.wg.forward(n)), reshape(this.outNorm.forward(o), [b, t, d]));
    const h = add(x, this.wo.forward(gated));
    const m = this.norm2.forward(h);
    return add(h, sub(this.cms.forward(m, opts), m));
  }

  /** Zero tensors of the last CMS reset (freed at the next reset unless a scope freed them). */
  private parked: Tensor[] = [];

  /** Back to the meta-learned init (memories, CMS Δ, empty conv cache). */
  resetFast(): void {
    for (const t of this.parked) if (!t.isDisposed) t.dispose();
    this.titans.reset();
    this.cms.reset();
    this.convCache = null;
    this.convVCache = null;
    // after a reset every level's Δ and accumulators are these zeros (shared): nothing else holds them
    this.parked = this.cms.chunkSizes.flatMap((_, i) => {
      const d = this.cms.delta(i);
      return [d.w1, d.w2];
    });
  }

  /**
   * Frees the parked reset zeros (called by dispose()). The conv cache is left alone: it may be
   * shared with a state installed by `loadFastState`.
   */
  override disposeState(): void {
    for (const t of this.parked) t.dispose();
    this.parked = [];
  }

  /** Detached copies of the fast state. */
  fastState(): HopeBlockState {
    return {
      titans: this.titans.snapshot(),
      cms: this.cms.snapshot(),
      conv: this.convCache === null ? null : this.convCache.detach().clone(),
      ...(this.wv === null
        ? {}
        : { convV: this.convVCache === null ? null : this.convVCache.detach().clone() }),
    };
  }

  /** Installs a state from `fastState` (the tensors are shared, not copied; they are never written). */
  loadFastState(s: HopeBlockState): void {
    this.titans.restore(s.titans);
    this.cms.restore(s.cms);
    this.convCache = s.conv;
    this.convVCache = this.wv === null ? null : (s.convV ?? null);
  }
}
