/**
 * TitansLM: the Titans LMM variant (Behrouz et al. 2025; "Titans" rows of nested-learning.md §7)
 * — the neural long-term memory alone as the token mixer, no attention:
 *
 *   h = RMSNorm(x);  q, k, v = SiLU(conv₄(W_qkv h))  per head [B, T, H, Dh];  q, k ← ℓ2(q), ℓ2(k)
 *   θ = θ_max·sigmoid(W_θ h + b_θ),  η = η_max·sigmoid(W_η h + b_η),  α = α_max·sigmoid(W_α h + b_α)   [B, T, H]
 *   o = TitansMemory(q, k, v; θ, η, α)      residual MLP memory M(x) = x + W1 SiLU(W2 x) per head,
 *                                            mini-batch chunks of C tokens, momentum η, forget α
 *   x ← x + W_o (RMSNorm_head(o) ⊙ SiLU(W_g h));   x ← x + SwiGLU(RMSNorm(x))
 *
 * Small-scale gate init (the memory diverges with big gates): W_θ,η,α ~ N(0, 0.002), biases so
 * that θ ≈ thetaInit, η ≈ etaInit, α ≈ alphaInit at the start. The decoder carries the memory's
 * weights, momenta and chunk position, plus the conv cache.
 */
import { nn, noGrad, type Tensor } from '@nl/tensor';
import { TitansMemory, type MemorySnapshot } from '@nl/memory';
import { BlockLM, initSwiGLU, mlpHalfParamCount, shellParamCount, type LMBlock } from './common.js';
import { failer, numIn, posInt, resolveShell, type ShellConfig } from './config-fields.js';
import { GatedOut, QKVConv, l2norm, mixerPartsParamCount, runFromState } from './mixer-parts.js';
import type { StepDecoder } from './stream-decoder.js';
import { FusedTitansDecoder, fusedTitansBlocker, type FusedTitansParts } from '../kernels/titans-decode.js';

/** TitansLM hyperparameters (plain JSON). */
export interface TitansLMConfig extends ShellConfig {
  kind: 'titans';
  /** Short causal conv window on q, k, v (default 4). */
  convSize: number;
  /** Hidden width of the memory MLP per head (default dim/heads). */
  memoryHidden: number;
  /** Memory mini-batch chunk size C (default 16; a model hyperparameter: changes the result). */
  chunkSize: number;
  /** 'fused' (native chunk kernels, default) or 'loop' (reference). */
  impl: 'fused' | 'loop';
  /** Std of the memory MLP's initial weights W1, W2 (meta-learned init; default 0.02). */
  memoryInitStd: number;
  /** Upper bounds of the gates: θ ≤ thetaMax, η ≤ etaMax, α ≤ alphaMax. */
  thetaMax: number;
  etaMax: number;
  alphaMax: number;
  /** Gate values at initialisation (through the gate biases). */
  thetaInit: number;
  etaInit: number;
  alphaInit: number;
  /**
   * Per-token inner-gradient clip c of the memory (TitansMemory.innerGradClip; default 0 = off):
   * each token's write is scaled to a Frobenius norm <= θ c, so the fast weights grow at most
   * linearly. Without it, d 64 Titans LMs went non-finite on 256-byte training windows (issue 16).
   */
  innerGradClip: number;
}

/** Caller-facing config: sizes required, everything else optional. */
export type TitansLMConfigInput = Partial<TitansLMConfig> &
  Pick<TitansLMConfig, 'vocabSize' | 'dim' | 'layers' | 'heads'>;

const LABEL = 'TitansLM';
const GATES = ['theta', 'eta', 'alpha'] as const;
/** Defaults of the gate bounds and initial values. */
export const TITANS_GATE_DEFAULTS = {
  thetaMax: 0.1,
  etaMax: 0.9,
  alphaMax: 0.1,
  thetaInit: 0.02,
  etaInit: 0.45,
  alphaInit: 0.01,
};

/** Fills defaults and validates (errors name the field). */
export function resolveTitansLMConfig(input: TitansLMConfigInput): TitansLMConfig {
  const raw = input as unknown as Record<string, unknown>;
  const gateFields = GATES.flatMap((g) => [`${g}Max`, `${g}Init`]);
  const shell = resolveShell(LABEL, 'titans', raw, [
    'convSize',
    'memoryHidden',
    'chunkSize',
    'impl',
    'memoryInitStd',
    'innerGradClip',
    ...gateFields,
  ]);
  const fail = failer(LABEL);
  const convSize = posInt(fail, 'convSize', raw.convSize, 4);
  const memoryHidden = posInt(fail, 'memoryHidden', raw.memoryHidden, shell.dim / shell.heads);
  const chunkSize = posInt(fail, 'chunkSize', raw.chunkSize, 16);
  const impl = raw.impl ?? 'fused';
  if (impl !== 'fused' && impl !== 'loop')
    fail(`impl must be 'fused' or 'loop', got ${JSON.stringify(impl)}`);
  const memoryInitStd = numIn(fail, 'memoryInitStd', raw.memoryInitStd, 0.02, 0, 10);
  const innerGradClip = numIn(fail, 'innerGradClip', raw.innerGradClip, 0, 0, Number.MAX_VALUE);
  const gates: Record<string, number> = {};
  for (const g of GATES) {
    const max = numIn(fail, `${g}Max`, raw[`${g}Max`], TITANS_GATE_DEFAULTS[`${g}Max`], 1e-6, 1);
    const init = numIn(
      fail,
      `${g}Init`,
      raw[`${g}Init`],
      Math.min(TITANS_GATE_DEFAULTS[`${g}Init`], max / 2),
      0,
      max,
    );
    if (!(init > 0 && init < max))
      fail(`${g}Init (${init}) must lie strictly between 0 and ${g}Max (${max})`);
    gates[`${g}Max`] = max;
    gates[`${g}Init`] = init;
  }
  return {
    ...shell,
    kind: 'titans',
    convSize,
    memoryHidden,
    chunkSize,
    impl: impl as TitansLMConfig['impl'],
    memoryInitStd,
    innerGradClip,
    ...(gates as Pick<
      TitansLMConfig,
      'thetaMax' | 'etaMax' | 'alphaMax' | 'thetaInit' | 'etaInit' | 'alphaInit'
    >),
  };
}

/** Trainable scalars of a TitansLM, without building it. */
export function titansLMParamCount(c: TitansLMConfig): number {
  const d = c.dim;
  const h = c.heads;
  const dh = d / h;
  const memory = h * 2 * dh * c.memoryHidden; // W1, W2 initial weights
  const mixer = d + mixerPartsParamCount(d, h, c.convSize) + 3 * (d * h + h) + memory;
  return shellParamCount(c, mixer + mlpHalfParamCount(c));
}

/** Streaming cache of one block: conv rows and the memory snapshot (weights, momenta, position). */
interface TitansCache {
  conv: Tensor | null;
  mem: MemorySnapshot | null;
}

/** One Titans-memory mixer + SwiGLU block. */
export class TitansBlock extends nn.Module implements LMBlock {
  readonly norm1: nn.RMSNorm;
  readonly qkv: QKVConv;
  /** θ, η, α gate heads: [D] → [H] each, with bias. */
  readonly thetaProj: nn.Linear;
  readonly etaProj: nn.Linear;
  readonly alphaProj: nn.Linear;
  readonly memory: TitansMemory;
  readonly out: GatedOut;
  readonly norm2: nn.RMSNorm;
  readonly mlp: nn.SwiGLU;
  private readonly c: TitansLMConfig;

  constructor(c: TitansLMConfig) {
    super();
    const { dim, heads, dtype } = c;
    const eps = c.normEps;
    this.c = c;
    this.norm1 = this.registerModule('norm1', new nn.RMSNorm(dim, { dtype, eps }));
    this.qkv = this.registerModule('qkv', new QKVConv(dim, heads, c.convSize, dtype));
    const gate = (g: (typeof GATES)[number]): nn.Linear => {
      const l = new nn.Linear(dim, heads, { dtype });
      const p = c[`${g}Init`] / c[`${g}Max`];
      noGrad(() => {
        nn.init.normal_(l.weight, 0, 0.002);
        nn.init.constant_(l.bias!, Math.log(p / (1 - p))); // sigmoid(b) · max = init
      });
      return this.registerModule(`${g}Proj`, l);
    };
    this.thetaProj = gate('theta');
    this.etaProj = gate('eta');
    this.alphaProj = gate('alpha');
    this.memory = this.registerModule(
      'memory',
      new TitansMemory({
        heads,
        dk: dim / heads,
        dv: dim / heads,
        dtype,
        hidden: c.memoryHidden,
        chunkSize: c.chunkSize,
        impl: c.impl,
        initStd: c.memoryInitStd,
        innerGradClip: c.innerGradClip,
      }),
    );
    this.out = this.registerModule('out', new GatedOut(dim, heads, c.layers, dtype, eps));
    this.norm2 = this.registerModule('norm2', new nn.RMSNorm(dim, { dtype, eps }));
    this.mlp = this.registerModule('mlp', new nn.SwiGLU(dim, c.mlpHidden, { dtype }));
    initSwiGLU(this.mlp, c.layers);
  }

  /** Mixer + MLP over x [B, T, D]; `stream` non-null continues a batch-1 cache. */
  private run(x: Tensor, stream: { cache: TitansCache | null } | null): { y: Tensor; cache: TitansCache } {
    const h = this.norm1.forward(x); // [B, T, D]
    const past = stream?.cache ?? null;
    const { q, k, v, cache: conv } = this.qkv.run(h, stream && { cache: past?.conv ?? null });
    const gate = (l: nn.Linear, max: number): Tensor => l.forward(h).sigmoid().mul(max); // [B, T, H]
    const theta = gate(this.thetaProj, this.c.thetaMax);
    const eta = gate(this.etaProj, this.c.etaMax);
    const alpha = gate(this.alphaProj, this.c.alphaMax);
    const { o, mem } = runFromState(this.memory, past?.mem, stream !== null, () =>
      this.memory.forward(l2norm(q), l2norm(k), v, { theta, eta, alpha }),
    ); // o [B, T, H, Dh]
    const x1 = x.add(this.out.forward(o, h)); // [B, T, D]
    const y = x1.add(this.mlp.forward(this.norm2.forward(x1)));
    return { y, cache: { conv, mem } };
  }

  forward(x: Tensor): Tensor {
    return this.run(x, null).y;
  }

  stream(x: Tensor, cache: TitansCache | null): { y: Tensor; cache: TitansCache } {
    return this.run(x, { cache });
  }
}

/** Titans (LMM) language model. */
export class TitansLM extends BlockLM<TitansLMConfig> {
  constructor(input: TitansLMConfigInput) {
    const c = resolveTitansLMConfig(input);
    super(LABEL, c, () => new TitansBlock(c));
  }

  /**
   * A fresh batch-1 streaming decoder (memory state, chunk phase and conv cache per block). `fused`
   * true: the fused native decoder (throws naming why it cannot run); false: the tensor-op
   * `StreamDecoder`; default: fused when the model is float32 on the CPU and the addon has the
   * decode ops.
   */
  override decoder(options: { fused?: boolean } = {}): StepDecoder {
    const c = this.config;
    const parts: FusedTitansParts = {
      label: this.label,
      vocabSize: c.vocabSize,
      dim: c.dim,
      heads: c.heads,
      embed: this.embed,
      blocks: this.blocks as TitansBlock[],
      normF: this.normF,
      head: this.head,
      thetaMax: c.thetaMax,
      etaMax: c.etaMax,
      alphaMax: c.alphaMax,
    };
    const fused =
      options.fused ?? (this.embed.weight.dtype === 'float32' && fusedTitansBlocker(parts) === null);
    return fused ? new FusedTitansDecoder(parts) : super.decoder();
  }
}
