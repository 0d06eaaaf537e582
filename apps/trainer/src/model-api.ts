/**
 * The contract between nl-train and a model. The trainer owns data, schedule, evaluation,
 * checkpoints, progress and plots; a model owns its parameters, autograd and optimizer. Keeping
 * the optimizer inside the model side means this file needs no tensor types: a factory for
 * `HopeLM` composes the @nl/hope module with an @nl/optim optimizer built from the config
 * (`optimizer`, `weightDecay`, `gradClip`), and the trainer only passes the learning rate.
 *
 * To plug a model in, implement {@link TrainableLM}, write a {@link ModelFactory}, and add one
 * entry to `MODELS` in models.ts. Methods may return promises (native async work).
 *
 * Shapes: a batch is `TokenBatch.tokens` Int32 [B, T+1]; inputs are [:, 0..T), targets [:, 1..T].
 * Losses are mean next-token cross-entropy in nats over the B·T targets.
 */
import type { TokenBatch } from '@nl/hope';
import type { TrainConfig } from './config.js';

type MaybePromise<T> = T | Promise<T>;

/** What a model serializes into a checkpoint. */
export interface ModelState {
  /** Weights as safetensors bytes (written as model.safetensors). */
  weights: Uint8Array;
  /** Optimizer hyperparameters and scalar state (written as optimizer.json). */
  optimizer: Record<string, unknown>;
  /** Optimizer tensors or other binary state, by file name (e.g. `optimizer.safetensors`). */
  extra?: Record<string, Uint8Array>;
}

/** A stateful decoding stream used for sampling. */
export interface TokenStream {
  /**
   * Consume ids (the prompt first, then each sampled id) and return logits over the vocabulary,
   * Float32Array [vocabSize], for the token that follows the last id fed. Recurrent models carry
   * their state; others may recompute over a window.
   */
  feed(ids: Int32Array): MaybePromise<Float32Array>;
  /** Release resources held by the stream. */
  dispose?(): void;
}

/** A language model the trainer can drive. */
export interface TrainableLM {
  /** Number of trainable parameters (printed at start and in the summary). */
  numParameters(): number;
  /**
   * One optimisation step: forward on `batch`, loss, backward, optimizer update with `lr`.
   * @returns the batch's mean loss in nats before the update
   */
  trainStep(batch: TokenBatch, lr: number): MaybePromise<number>;
  /** Mean loss in nats over `batch` (rows may be fewer than the training batch size); no update. */
  evalLoss(batch: TokenBatch): MaybePromise<number>;
  /** Start a decoding stream (fresh state). */
  stream(): TokenStream;
  /** The model's own hyperparameters as JSON, saved in config.json. */
  modelConfig(): Record<string, unknown>;
  /** Serialize weights and optimizer state. */
  save(): MaybePromise<ModelState>;
  /** Restore exactly what {@link TrainableLM.save} produced; throws a clear error on mismatch. */
  load(state: ModelState): MaybePromise<void>;
  /** Free native memory. */
  dispose?(): void;
}

/** What a factory gets. */
export interface ModelContext {
  /** The effective trainer config (model preset name, optimizer, seed, device, threads, ...). */
  config: TrainConfig;
  /** Vocabulary size of the tokenizer (256 for bytes). */
  vocabSize: number;
  /** Model hyperparameters saved in a checkpoint (on resume/eval/sample), to rebuild the same shape. */
  savedModelConfig?: Record<string, unknown>;
}

/** Builds a fresh model (seeded from `config.seed`) with its optimizer. */
export type ModelFactory = (ctx: ModelContext) => MaybePromise<TrainableLM>;

/** Name → factory. */
export type ModelRegistry = Readonly<Record<string, ModelFactory>>;
