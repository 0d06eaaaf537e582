/**
 * The contract every language model in @nl/hope implements (HopeLM, TransformerLM, TitansLM,
 * DeltaNetLM). The trainer (apps/trainer), `generate()` and `HopeSession` are written against
 * this file only, so a model is pluggable by implementing it.
 *
 * Shapes: token ids are Int32 tensors. A training batch is [B, T+1]: inputs [:, 0..T), targets
 * [:, 1..T]. Losses are mean next-token cross-entropy in nats over the B·T targets.
 */
import type { nn, Tensor } from '@nl/tensor';

/** Which architecture a config describes. */
export type ModelKind = 'hope' | 'transformer' | 'titans' | 'deltanet';

/** Fields every model config has; each kind extends it with its own (plain JSON data). */
export interface LMConfigBase {
  kind: ModelKind;
  /** Vocabulary size (256 for the byte tokenizer). */
  vocabSize: number;
  /** Model width d_model. */
  dim: number;
  /** Number of blocks. */
  layers: number;
  /** Attention / memory heads (dim must divide by heads). */
  heads: number;
  /** Parameter dtype (default float32). */
  dtype?: 'float32' | 'float64';
}

/**
 * A stateful decoder over one sequence (batch 1): feed ids, get the logits for the next token.
 * Recurrent models carry their fast state (memories, conv caches, CMS); attention carries a KV
 * cache. No recomputation of the prefix.
 */
export interface Decoder {
  /** Consume `ids` in order; return logits Float32Array [vocabSize] for the token after the last one. */
  feed(ids: Int32Array): Float32Array;
  /** Tokens consumed so far. */
  readonly position: number;
  /** Free tensors held by the decoder. */
  dispose(): void;
}

/** What every language model offers. Implementations are `nn.Module`s. */
export interface LanguageModel extends nn.Module {
  /** The model's own hyperparameters as JSON (rebuilds the same shape via `buildModel`). */
  readonly config: LMConfigBase & Record<string, unknown>;
  /**
   * Teacher-forced logits from a fresh state: tokens Int32 [B, T] → logits float [B, T, V].
   * Differentiable w.r.t. the parameters.
   */
  forward(tokens: Tensor): Tensor;
  /**
   * Forward + mean next-token loss + backward on `batch` Int32 [B, T+1]; gradients accumulate
   * into the parameters' `.grad` (the caller zeroes them and steps the optimizer). Models with
   * in-sequence learning (Hope's CMS) run their training scheme here. Returns the loss in nats.
   */
  lossAndBackward(batch: Tensor): number;
  /** Mean next-token loss in nats over `batch` Int32 [B, T+1], no gradients, no parameter change. */
  evalLoss(batch: Tensor): number;
  /** A fresh streaming decoder (batch 1). Its logits equal `forward`'s row by row. */
  decoder(): Decoder;
  /** Number of trainable scalars. */
  numParameters(): number;
}
