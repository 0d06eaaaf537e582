/**
 * TransformerLM ("Transformer++", the baseline of nested-learning.md §6.3/§7): pre-norm blocks
 *
 *   x ← x + W_o · attn(RoPE(W_q h), RoPE(W_k h), W_v h),   h = RMSNorm(x)     (causal, H heads)
 *   x ← x + SwiGLU(RMSNorm(x))
 *
 * no biases, untied head by default. The streaming decoder carries a KV cache per block
 * (k, v [1, H, S, D/H], RoPE already applied), so each new token attends to the cached prefix.
 */
import { cat, nn, type Tensor } from '@nl/tensor';
import {
  BlockLM,
  initSwiGLU,
  linear,
  mlpHalfParamCount,
  residualStd,
  shellParamCount,
  type LMBlock,
} from './common.js';
import { failer, numIn, resolveShell, type ShellConfig } from './config-fields.js';
import { applyRope } from './rope.js';
import type { StepDecoder } from './stream-decoder.js';
import {
  FusedTransformerDecoder,
  fusedDecodeBlocker,
  type FusedTransformerParts,
} from '../kernels/transformer-decode.js';

/** TransformerLM hyperparameters (plain JSON). */
export interface TransformerConfig extends ShellConfig {
  kind: 'transformer';
  /** RoPE base (default 10000). */
  ropeBase: number;
}

/** Caller-facing config: sizes required, everything else optional. */
export type TransformerConfigInput = Partial<TransformerConfig> &
  Pick<TransformerConfig, 'vocabSize' | 'dim' | 'layers' | 'heads'>;

const LABEL = 'TransformerLM';

/** Fills defaults and validates (errors name the field). */
export function resolveTransformerConfig(input: TransformerConfigInput): TransformerConfig {
  const raw = input as unknown as Record<string, unknown>;
  const shell = resolveShell(LABEL, 'transformer', raw, ['ropeBase']);
  const fail = failer(LABEL);
  if ((shell.dim / shell.heads) % 2 !== 0)
    fail(`head dim dim/heads (${shell.dim / shell.heads}) must be even for RoPE`);
  const ropeBase = numIn(fail, 'ropeBase', raw.ropeBase, 10000, 1, Number.MAX_VALUE);
  return { ...shell, kind: 'transformer', ropeBase };
}

/** Trainable scalars of a TransformerLM, without building it. */
export function transformerParamCount(c: TransformerConfig): number {
  const attn = c.dim + 4 * c.dim * c.dim; // norm + q, k, v, o
  return shellParamCount(c, attn + mlpHalfParamCount(c));
}

/** KV cache of one block: keys (RoPE applied) and values [1, H, S, D/H], S = tokens so far. */
interface KVCache {
  k: Tensor;
  v: Tensor;
  pos: number;
}

/** One pre-norm attention + SwiGLU block. */
export class TransformerBlock extends nn.Module implements LMBlock {
  readonly norm1: nn.RMSNorm;
  readonly q: nn.Linear;
  readonly k: nn.Linear;
  readonly v: nn.Linear;
  readonly o: nn.Linear;
  readonly norm2: nn.RMSNorm;
  readonly mlp: nn.SwiGLU;
  readonly heads: number;
  readonly headDim: number;
  readonly ropeBase: number;

  constructor(c: TransformerConfig) {
    super();
    const { dim, dtype } = c;
    this.heads = c.heads;
    this.headDim = dim / c.heads;
    this.ropeBase = c.ropeBase;
    const eps = c.normEps;
    this.norm1 = this.registerModule('norm1', new nn.RMSNorm(dim, { dtype, eps }));
    this.q = this.registerModule('q', linear(dim, dim, dtype));
    this.k = this.registerModule('k', linear(dim, dim, dtype));
    this.v = this.registerModule('v', linear(dim, dim, dtype));
    this.o = this.registerModule('o', linear(dim, dim, dtype, residualStd(c.layers)));
    this.norm2 = this.registerModule('norm2', new nn.RMSNorm(dim, { dtype, eps }));
    this.mlp = this.registerModule('mlp', new nn.SwiGLU(dim, c.mlpHidden, { dtype }));
    initSwiGLU(this.mlp, c.layers);
  }

  /** h [B, T, D] → [B, H, T, D/H] */
  private split(l: nn.Linear, h: Tensor): Tensor {
    const [b, t] = h.shape as [number, number];
    return l.forward(h).reshape([b, t, this.heads, this.headDim]).transpose(1, 2);
  }

  /** Attention half + MLP half over x [B, T, D] at positions pos.., after the cached keys. */
  private run(x: Tensor, past: KVCache | null): { y: Tensor; cache: KVCache } {
    const [b, t, d] = x.shape as [number, number, number];
    const pos = past?.pos ?? 0;
    const h = this.norm1.forward(x);
    const q = applyRope(this.split(this.q, h), pos, this.ropeBase); // [B, H, T, Dh]
    let k = applyRope(this.split(this.k, h), pos, this.ropeBase); // [B, H, T, Dh]
    let v = this.split(this.v, h); // [B, H, T, Dh]
    if (past !== null) {
      k = cat([past.k, k], 2); // [1, H, S, Dh]
      v = cat([past.v, v], 2);
    }
    const a = nn.functional.scaledDotProductAttention(q, k, v, { causal: true }); // [B, H, T, Dh]
    const x1 = x.add(this.o.forward(a.transpose(1, 2).reshape([b, t, d]))); // [B, T, D]
    const y = x1.add(this.mlp.forward(this.norm2.forward(x1)));
    return { y, cache: { k, v, pos: pos + t } };
  }

  forward(x: Tensor): Tensor {
    return this.run(x, null).y;
  }

  stream(x: Tensor, cache: KVCache | null): { y: Tensor; cache: KVCache } {
    return this.run(x, cache);
  }
}

/** Options of `TransformerLM.decoder`. */
export interface TransformerDecoderOptions {
  /**
   * true: the fused native decoder (throws naming why it cannot run); false: the tensor-op
   * `StreamDecoder`. Default: fused when the model is float32 on the CPU and the addon has the
   * decode ops, else the tensor-op decoder.
   */
  fused?: boolean;
}

/** Transformer++ language model. */
export class TransformerLM extends BlockLM<TransformerConfig> {
  constructor(input: TransformerConfigInput) {
    const c = resolveTransformerConfig(input);
    super(LABEL, c, () => new TransformerBlock(c));
  }

  /** A fresh batch-1 streaming decoder with a KV cache per block (fused on the CPU, see options). */
  override decoder(options: TransformerDecoderOptions = {}): StepDecoder {
    const parts: FusedTransformerParts = {
      label: this.label,
      vocabSize: this.config.vocabSize,
      dim: this.config.dim,
      embed: this.embed,
      blocks: this.blocks as TransformerBlock[],
      normF: this.normF,
      head: this.head,
    };
    const fused =
      options.fused ?? (this.embed.weight.dtype === 'float32' && fusedDecodeBlocker(parts) === null);
    return fused ? new FusedTransformerDecoder(parts) : super.decoder();
  }
}
