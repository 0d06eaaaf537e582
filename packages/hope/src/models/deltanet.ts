/**
 * DeltaNetLM: gated DeltaNet blocks (Yang et al. 2024, the DeltaNet row of nested-learning.md §7)
 *
 *   h = RMSNorm(x);  q, k, v = SiLU(conv₄(W_qkv h))  per head [B, T, H, Dh]
 *   q ← ℓ2(q)/√Dh,  k ← ℓ2(k)
 *   β = sigmoid(W_β h),  α = exp(−exp(A_log) · softplus(W_α h + dt_bias))          [B, T, H]
 *   S_t = α_t (I − β_t k kᵀ) S_{t−1} + β_t k vᵀ,  o_t = S_tᵀ q_t      (GatedDeltaMemory, @nl/memory)
 *   x ← x + W_o (RMSNorm_head(o) ⊙ SiLU(W_g h));   x ← x + SwiGLU(RMSNorm(x))
 *
 * A_log, dt_bias initialised as in Mamba-2 / gated DeltaNet (A ~ U[1, 16], dt ~ logU[1e-3, 0.1]).
 * The decoder carries per block the memory state S and the conv cache (last 3 projected rows).
 */
import { exp, log, nn, noGrad, rand, softplus, tidy, type Tensor } from '@nl/tensor';
import { GatedDeltaMemory, type MemorySnapshot } from '@nl/memory';
import { BlockLM, initSwiGLU, linear, mlpHalfParamCount, shellParamCount, type LMBlock } from './common.js';
import { failer, posInt, resolveShell, type ShellConfig } from './config-fields.js';
import { GatedOut, QKVConv, l2norm, mixerPartsParamCount, runFromState } from './mixer-parts.js';
import type { StepDecoder } from './stream-decoder.js';
import {
  FusedDeltaNetDecoder,
  fusedDeltaNetBlocker,
  type FusedDeltaNetParts,
} from '../kernels/deltanet-decode.js';

/** DeltaNetLM hyperparameters (plain JSON). */
export interface DeltaNetConfig extends ShellConfig {
  kind: 'deltanet';
  /** Short causal conv window on q, k, v (default 4). */
  convSize: number;
  /** Memory implementation: 'fused' (native chunked kernels, default) or 'loop' (reference). */
  impl: 'fused' | 'loop';
  /** Kernel chunk size of the fused path (exact tiling: speed only; default 64). */
  chunkSize: number;
  /** Meta-learn the initial memory S0 (default false: zeros, as in gated DeltaNet). */
  learnInit: boolean;
}

/** Caller-facing config: sizes required, everything else optional. */
export type DeltaNetConfigInput = Partial<DeltaNetConfig> &
  Pick<DeltaNetConfig, 'vocabSize' | 'dim' | 'layers' | 'heads'>;

const LABEL = 'DeltaNetLM';

/** Fills defaults and validates (errors name the field). */
export function resolveDeltaNetConfig(input: DeltaNetConfigInput): DeltaNetConfig {
  const raw = input as unknown as Record<string, unknown>;
  const shell = resolveShell(LABEL, 'deltanet', raw, ['convSize', 'impl', 'chunkSize', 'learnInit']);
  const fail = failer(LABEL);
  const convSize = posInt(fail, 'convSize', raw.convSize, 4);
  const chunkSize = posInt(fail, 'chunkSize', raw.chunkSize, 64);
  const impl = raw.impl ?? 'fused';
  if (impl !== 'fused' && impl !== 'loop')
    fail(`impl must be 'fused' or 'loop', got ${JSON.stringify(impl)}`);
  const learnInit = raw.learnInit ?? false;
  if (typeof learnInit !== 'boolean') fail(`learnInit must be a boolean, got ${JSON.stringify(learnInit)}`);
  return {
    ...shell,
    kind: 'deltanet',
    convSize,
    impl: impl as DeltaNetConfig['impl'],
    chunkSize,
    learnInit: learnInit as boolean,
  };
}

/** Trainable scalars of a DeltaNetLM, without building it. */
export function deltaNetParamCount(c: DeltaNetConfig): number {
  const d = c.dim;
  const h = c.heads;
  const dh = d / h;
  const mixer =
    d + mixerPartsParamCount(d, h, c.convSize) + 2 * d * h + 2 * h + (c.learnInit ? h * dh * dh : 0);
  return shellParamCount(c, mixer + mlpHalfParamCount(c));
}

/** Streaming cache of one block: conv rows [1, K−1, 3D] and the memory snapshot. */
interface DeltaNetCache {
  conv: Tensor | null;
  mem: MemorySnapshot | null;
}

/** One gated-DeltaNet mixer + SwiGLU block. */
export class DeltaNetBlock extends nn.Module implements LMBlock {
  readonly norm1: nn.RMSNorm;
  readonly qkv: QKVConv;
  /** W_α, W_β: [D] → [H] gate heads. */
  readonly alphaProj: nn.Linear;
  readonly betaProj: nn.Linear;
  /** A_log [H], dt_bias [H]. */
  readonly aLog: Tensor;
  readonly dtBias: Tensor;
  readonly memory: GatedDeltaMemory;
  readonly out: GatedOut;
  readonly norm2: nn.RMSNorm;
  readonly mlp: nn.SwiGLU;
  private readonly headDim: number;

  constructor(c: DeltaNetConfig) {
    super();
    const { dim, heads, dtype } = c;
    const eps = c.normEps;
    this.headDim = dim / heads;
    this.norm1 = this.registerModule('norm1', new nn.RMSNorm(dim, { dtype, eps }));
    this.qkv = this.registerModule('qkv', new QKVConv(dim, heads, c.convSize, dtype));
    this.alphaProj = this.registerModule('alphaProj', linear(dim, heads, dtype));
    this.betaProj = this.registerModule('betaProj', linear(dim, heads, dtype));
    const { aLog, dtBias } = noGrad(() =>
      tidy(() => {
        const a = rand([heads], { dtype }).mul(15).add(1); // A ~ U[1, 16]
        const lo = Math.log(1e-3);
        const dt = exp(
          rand([heads], { dtype })
            .mul(Math.log(0.1) - lo)
            .add(lo),
        ); // dt ~ logU[1e-3, 0.1]
        return { aLog: log(a), dtBias: dt.add(log(exp(dt.neg()).neg().add(1))) }; // softplus⁻¹(dt)
      }),
    );
    this.aLog = this.registerParameter('aLog', aLog);
    this.dtBias = this.registerParameter('dtBias', dtBias);
    this.memory = this.registerModule(
      'memory',
      new GatedDeltaMemory({
        heads,
        dk: this.headDim,
        dv: this.headDim,
        dtype,
        impl: c.impl,
        chunkSize: c.chunkSize,
        learnInit: c.learnInit,
      }),
    );
    this.out = this.registerModule('out', new GatedOut(dim, heads, c.layers, dtype, eps));
    this.norm2 = this.registerModule('norm2', new nn.RMSNorm(dim, { dtype, eps }));
    this.mlp = this.registerModule('mlp', new nn.SwiGLU(dim, c.mlpHidden, { dtype }));
    initSwiGLU(this.mlp, c.layers);
  }

  /** Mixer + MLP over x [B, T, D]; `stream` non-null continues a batch-1 cache. */
  private run(
    x: Tensor,
    stream: { cache: DeltaNetCache | null } | null,
  ): { y: Tensor; cache: DeltaNetCache } {
    const h = this.norm1.forward(x); // [B, T, D]
    const past = stream?.cache ?? null;
    const { q, k, v, cache: conv } = this.qkv.run(h, stream && { cache: past?.conv ?? null });
    const qn = l2norm(q).mul(1 / Math.sqrt(this.headDim)); // [B, T, H, Dh]
    const kn = l2norm(k);
    const beta = this.betaProj.forward(h).sigmoid(); // [B, T, H]
    const alpha = exp(softplus(this.alphaProj.forward(h).add(this.dtBias)).mul(exp(this.aLog)).neg());
    const { o, mem } = runFromState(this.memory, past?.mem, stream !== null, () =>
      this.memory.forward(qn, kn, v, { alpha, beta }),
    ); // o [B, T, H, Dh]
    const x1 = x.add(this.out.forward(o, h)); // [B, T, D]
    const y = x1.add(this.mlp.forward(this.norm2.forward(x1)));
    return { y, cache: { conv, mem } };
  }

  forward(x: Tensor): Tensor {
    return this.run(x, null).y;
  }

  stream(x: Tensor, cache: DeltaNetCache | null): { y: Tensor; cache: DeltaNetCache } {
    return this.run(x, { cache });
  }
}

/** Gated DeltaNet language model. */
export class DeltaNetLM extends BlockLM<DeltaNetConfig> {
  constructor(input: DeltaNetConfigInput) {
    const c = resolveDeltaNetConfig(input);
    super(LABEL, c, () => new DeltaNetBlock(c));
  }

  /**
   * A fresh batch-1 streaming decoder (memory state and conv cache per block). `fused` true: the
   * fused native decoder (throws naming why it cannot run); false: the tensor-op `StreamDecoder`;
   * default: fused when the model is float32 on the CPU and the addon has the decode ops.
   */
  override decoder(options: { fused?: boolean } = {}): StepDecoder {
    const parts: FusedDeltaNetParts = {
      label: this.label,
      vocabSize: this.config.vocabSize,
      dim: this.config.dim,
      embed: this.embed,
      blocks: this.blocks as DeltaNetBlock[],
      normF: this.normF,
      head: this.head,
    };
    const fused =
      options.fused ?? (this.embed.weight.dtype === 'float32' && fusedDeltaNetBlocker(parts) === null);
    return fused ? new FusedDeltaNetDecoder(parts) : super.decoder();
  }
}
