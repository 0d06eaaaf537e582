/**
 * The shell shared by the baseline language models (TransformerLM, DeltaNetLM, TitansLM):
 *
 *   ids [B, T] → token embedding → N × block (residual, pre-norm) → final RMSNorm → LM head → logits [B, T, V]
 *
 * A block is any `LMBlock`: `forward` runs a whole sequence from a fresh state, `stream`
 * continues a batch-1 sequence from a cache (KV cache, conv cache, memory state), which is what
 * the `StreamDecoder` uses. `BlockLM` implements the `LanguageModel` contract on top: teacher-forced
 * logits, next-token loss + backward, evaluation loss, decoder, parameter count.
 *
 * Initialisation (nanoGPT / LLaMA style): embedding, head and block projections N(0, 0.02); the
 * projections that write into the residual stream N(0, 0.02/√(2L)) (the blocks do that).
 */
import { crossEntropy, manualSeed, narrow, nn, noGrad, tidy, type Device, type Tensor } from '@nl/tensor';
import { checkIdTensor } from '../kernels/check-ids.js';
import type { LanguageModel } from './contract.js';
import type { ShellConfig } from './config-fields.js';
import { StreamDecoder, type StepDecoder } from './stream-decoder.js';

/** Std of the N(0, σ) initialisation of embeddings and projections. */
export const INIT_STD = 0.02;

/** A block's streaming cache: any plain object whose tensors the decoder keeps alive. */
export type BlockCache = object;

/** One residual block of a baseline LM. */
export interface LMBlock extends nn.Module {
  /** x [B, T, D] → [B, T, D], from a fresh state. Differentiable. */
  forward(x: Tensor): Tensor;
  /** Batch-1 streaming: x [1, T, D] continuing `cache` (null: fresh) → y [1, T, D] and the new cache. */
  stream(x: Tensor, cache: BlockCache | null): { y: Tensor; cache: BlockCache };
}

/** Draws a Linear's weight from N(0, std) (and zeroes its bias). Returns the layer. */
export function initLinear(l: nn.Linear, std = INIT_STD): nn.Linear {
  noGrad(() => {
    nn.init.normal_(l.weight, 0, std);
    if (l.bias) nn.init.zeros_(l.bias);
  });
  return l;
}

/** A bias-free Linear(inF → outF) drawn from N(0, std). */
export function linear(inF: number, outF: number, dtype: 'float32' | 'float64', std = INIT_STD): nn.Linear {
  return initLinear(new nn.Linear(inF, outF, { bias: false, dtype }), std);
}

/** Std of a residual output projection of a model with `layers` blocks: 0.02/√(2L). */
export function residualStd(layers: number): number {
  return INIT_STD / Math.sqrt(2 * layers);
}

/** gate, up ~ N(0, 0.02); down ~ N(0, 0.02/√(2L)). */
export function initSwiGLU(mlp: nn.SwiGLU, layers: number): void {
  noGrad(() => {
    for (const l of [mlp.gate, mlp.up]) nn.init.normal_(l.weight, 0, INIT_STD);
    nn.init.normal_(mlp.down.weight, 0, residualStd(layers));
  });
}

/** Checks token ids: Int32 [B, T] with B, T ≥ 1 and every id in [0, V). Returns [B, T]. */
export function checkTokens(label: string, tokens: Tensor, vocabSize: number): [number, number] {
  if (tokens.dtype !== 'int32') throw new TypeError(`${label}: tokens must be int32, got ${tokens.dtype}`);
  if (tokens.shape.length !== 2 || tokens.shape[0]! < 1 || tokens.shape[1]! < 1)
    throw new RangeError(`${label}: tokens must be [B, T] with B, T >= 1, got [${tokens.shape.join(', ')}]`);
  checkIdTensor(label, tokens, vocabSize); // on the ids' device: no host read
  return [tokens.shape[0]!, tokens.shape[1]!];
}

/** Checks a training batch: Int32 [B, T+1] with T ≥ 1. Returns [B, T]. */
export function checkBatch(label: string, batch: Tensor, vocabSize: number): [number, number] {
  if (batch.dtype !== 'int32') throw new TypeError(`${label}: batch must be int32, got ${batch.dtype}`);
  if (batch.shape.length !== 2 || batch.shape[0]! < 1 || batch.shape[1]! < 2)
    throw new RangeError(
      `${label}: batch must be [B, T+1] with B >= 1, T >= 1, got [${batch.shape.join(', ')}]`,
    );
  checkIdTensor(label, batch, vocabSize); // on the batch's device: no host read
  return [batch.shape[0]!, batch.shape[1]! - 1];
}

export { checkIds } from '../kernels/check-ids.js';

/** The device a module's parameters live on ('cpu' for a module without parameters). */
export function moduleDevice(m: nn.Module): Device {
  return m.parameters()[0]?.device ?? 'cpu';
}

/**
 * `ids` on `device`: the same tensor when it is already there, else a copy (one upload; the
 * caller disposes it when it differs from `ids`).
 */
export function onDevice(ids: Tensor, device: Device): Tensor {
  return ids.device === device ? ids : ids.to(device);
}

/**
 * Mean next-token cross-entropy (nats) of `logitsOf(inputs)` on a batch [B, T+1]: inputs are
 * columns [0, T), targets [1, T]. Returns the scalar loss tensor (differentiable).
 */
export function nextTokenLoss(batch: Tensor, logitsOf: (inputs: Tensor) => Tensor): Tensor {
  const [b, t1] = batch.shape as [number, number];
  const t = t1 - 1;
  const inputs = narrow(batch, 1, 0, t).contiguous(); // [B, T]
  const targets = narrow(batch, 1, 1, t)
    .contiguous()
    .reshape([b * t]); // [B·T]
  const logits = logitsOf(inputs); // [B, T, V]
  const v = logits.shape[2]!;
  return crossEntropy(logits.reshape([b * t, v]), targets);
}

/** Parameters a model would have, from its blocks' analytic count (used by the presets). */
export function shellParamCount(c: ShellConfig, perBlock: number): number {
  const embed = c.vocabSize * c.dim;
  const head = c.tieEmbeddings ? 0 : c.vocabSize * c.dim;
  return embed + c.layers * perBlock + c.dim + head;
}

/** Parameters of one pre-norm block's SwiGLU half: its RMSNorm and gate, up, down. */
export function mlpHalfParamCount(c: ShellConfig): number {
  return c.dim + 3 * c.dim * c.mlpHidden;
}

/**
 * embedding → blocks → RMSNorm → head, implementing `LanguageModel`. Subclasses pass a block
 * factory; the constructor reseeds the global RNG when `config.seed` is set.
 */
export abstract class BlockLM<C extends ShellConfig> extends nn.Module implements LanguageModel {
  readonly config: C & Record<string, unknown>;
  readonly embed: nn.Embedding;
  readonly layers: nn.ModuleList;
  readonly normF: nn.RMSNorm;
  readonly head: nn.Linear;

  protected constructor(
    readonly label: string,
    config: C,
    makeBlock: (index: number) => LMBlock,
  ) {
    super();
    this.config = config as C & Record<string, unknown>;
    if (config.seed !== undefined) manualSeed(config.seed);
    const dtype = config.dtype;
    this.embed = this.registerModule('embed', new nn.Embedding(config.vocabSize, config.dim, { dtype }));
    noGrad(() => nn.init.normal_(this.embed.weight, 0, INIT_STD));
    const blocks: LMBlock[] = [];
    for (let i = 0; i < config.layers; i++) blocks.push(makeBlock(i));
    this.layers = this.registerModule('layers', new nn.ModuleList(blocks));
    this.normF = this.registerModule('normF', new nn.RMSNorm(config.dim, { dtype, eps: config.normEps }));
    this.head = this.registerModule('head', linear(config.dim, config.vocabSize, dtype));
    if (config.tieEmbeddings) {
      const untied = this.head.weight;
      this.head.replaceParameter('weight', this.embed.weight);
      untied.dispose();
    }
  }

  /** Converts every parameter (see nn.Module.to); a float dtype also updates `config.dtype`. */
  override to(target: Parameters<nn.Module['to']>[0]): this {
    super.to(target);
    if (target === 'float32' || target === 'float64') this.config.dtype = target;
    return this;
  }

  /** The blocks in order. */
  get blocks(): LMBlock[] {
    return [...this.layers.children()] as LMBlock[];
  }

  /** Teacher-forced logits from a fresh state: tokens Int32 [B, T] → [B, T, V]. */
  forward(tokens: Tensor): Tensor {
    checkTokens(`${this.label}.forward`, tokens, this.config.vocabSize);
    return tidy(() => this.logits(onDevice(tokens, this.device)));
  }

  /** Where the parameters live (`to(device)` moves them); inputs on another device are copied here. */
  get device(): Device {
    return this.embed.weight.device;
  }

  /** forward without the id checks (ids already validated). */
  protected logits(tokens: Tensor): Tensor {
    return tidy(() => {
      let x = this.embed.forward(tokens); // [B, T, D]
      for (const b of this.blocks) x = b.forward(x); // [B, T, D]
      return this.head.forward(this.normF.forward(x)); // [B, T, V]
    });
  }

  /** Forward + mean next-token loss + backward on `batch` Int32 [B, T+1]; returns nats. */
  lossAndBackward(batch: Tensor): number {
    checkBatch(`${this.label}.lossAndBackward`, batch, this.config.vocabSize);
    return tidy(() => {
      const loss = nextTokenLoss(onDevice(batch, this.device), (x) => this.logits(x));
      loss.backward();
      return loss.item(); // the step's one device -> host transfer: the loss scalar
    });
  }

  /** Mean next-token loss (nats) on `batch` Int32 [B, T+1], no gradients. */
  evalLoss(batch: Tensor): number {
    checkBatch(`${this.label}.evalLoss`, batch, this.config.vocabSize);
    // one device -> host transfer: the loss scalar
    return noGrad(() =>
      tidy(() => nextTokenLoss(onDevice(batch, this.device), (x) => this.logits(x)).item()),
    );
  }

  /** A fresh batch-1 streaming decoder (KV cache / memory state / conv cache per block). */
  decoder(): StepDecoder {
    return new StreamDecoder(this.label, {
      vocabSize: this.config.vocabSize,
      device: this.device,
      embed: (ids) => this.embed.forward(ids),
      blocks: this.blocks,
      head: (x) => this.head.forward(this.normF.forward(x)),
    });
  }
}
