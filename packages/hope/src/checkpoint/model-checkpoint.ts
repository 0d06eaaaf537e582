/**
 * Save and restore a language model (and optionally its optimizer) exactly, as an atomic
 * checkpoint folder (folder.ts; the file layout is in model-state.ts):
 *
 *   saveCheckpoint('runs/my-model', { model, optimizer, step, rng, config: { note: 'x' } });
 *   const ck = loadCheckpoint('runs/my-model'); // a new model (buildModel), same weights
 *   const opt = new AdamW(ck.model.parameters(), { lr: 1e-3 });
 *   ck.restoreOptimizer(opt); // continues bit for bit
 *
 * config.json holds `{ ...config, model: model.config }`, state.json `{ ...state, step, rng }`.
 * nl-train's checkpoints use the same layout (their config.json adds `trainer`, their state.json
 * the loss history and the batch sampler's RNG), so `loadCheckpoint` reads them too.
 */
import type { Device } from '@nl/tensor';
import { buildModel } from '../models/build.js';
import type { LanguageModel, LMConfigBase } from '../models/contract.js';
import { CheckpointError, readCheckpoint, writeCheckpoint, type CheckpointState } from './folder.js';
import {
  OPTIMIZER_TENSORS_FILE,
  encodeOptimizer,
  encodeWeights,
  loadOptimizer,
  loadWeights,
  type AnyOptimizer,
} from './model-state.js';

/** A model config as saved in config.json's `model` section. */
export type SavedModelConfig = LMConfigBase & Record<string, unknown>;

/** What {@link saveCheckpoint} writes. */
export interface SaveCheckpointOptions {
  model: LanguageModel;
  /** Saved too when given (its class name, group options and all state, exactly). */
  optimizer?: AnyOptimizer;
  /** Optimizer steps completed (default 0). */
  step?: number;
  /** Any JSON RNG state needed to continue exactly, e.g. a batch sampler's (default null). */
  rng?: unknown;
  /** Further config.json fields (`model` is reserved for the model's config). */
  config?: Record<string, unknown>;
  /** Further state.json fields (`step` and `rng` are reserved). */
  state?: Record<string, unknown>;
}

/** How {@link loadCheckpoint} gets its model. */
export interface LoadCheckpointOptions<M extends LanguageModel> {
  /** Restore into this model; its config must equal the saved one (up to `seed`). */
  model?: M;
  /** Else build one from the saved model config (default: @nl/hope's `buildModel`). */
  build?: (config: SavedModelConfig) => M;
  /**
   * Device of a model built here (default 'cpu'): it is moved there before the weights are
   * loaded (one upload per tensor). A given `model` keeps its own device.
   */
  device?: Device;
  /** Restore the saved optimizer state into this optimizer (over `model.parameters()`). */
  optimizer?: AnyOptimizer;
}

/** A checkpoint restored into a model. */
export interface RestoredCheckpoint<M extends LanguageModel> {
  model: M;
  step: number;
  rng: unknown;
  /** config.json (the model's config is `config.model`). */
  config: Record<string, unknown>;
  state: CheckpointState;
  /** The folder read (`dir`, or `dir.old` after a crash between the two renames of a write). */
  path: string;
  /** Whether the checkpoint holds optimizer state. */
  hasOptimizerState: boolean;
  /** Restore the saved optimizer state into `opt` (same class, built over the same parameters). */
  restoreOptimizer(opt: AnyOptimizer): void;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Write `model` (weights), `optimizer` (state), config and progress to `dir` atomically.
 * @throws CheckpointError on bad arguments or a failed write (the previous checkpoint stays)
 */
export function saveCheckpoint(dir: string, o: SaveCheckpointOptions): void {
  if (!o || !o.model || typeof o.model.stateDict !== 'function')
    throw new CheckpointError('saveCheckpoint: options.model must be a LanguageModel');
  if (o.config && 'model' in o.config)
    throw new CheckpointError('saveCheckpoint: config.model is reserved for the model config');
  const opt = o.optimizer ? encodeOptimizer(o.optimizer) : undefined;
  writeCheckpoint(dir, {
    model: encodeWeights(o.model),
    config: { ...o.config, model: o.model.config },
    optimizer: opt ? opt.json : {},
    state: { ...o.state, step: o.step ?? 0, rng: o.rng ?? null },
    extra: opt ? { [OPTIMIZER_TENSORS_FILE]: opt.tensors } : undefined,
  });
}

/** Keys whose values differ between two configs (`seed` only seeds the initialisation: ignored). */
function configDiff(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  keys.delete('seed');
  return [...keys].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}

/**
 * Read a checkpoint folder and restore it into a model (given or built from the saved config),
 * and into `optimizer` when given. Every file is verified (sizes, SHA-256) before use.
 * @throws CheckpointError for a missing or corrupt folder, a config that does not match the given
 *   model, weights that do not fit, or optimizer state that does not fit (naming the file)
 */
export function loadCheckpoint<M extends LanguageModel>(
  dir: string,
  opts: LoadCheckpointOptions<M> = {},
): RestoredCheckpoint<M> {
  const c = readCheckpoint(dir);
  const saved = c.config.model;
  if (!isObj(saved) || typeof saved.kind !== 'string')
    throw new CheckpointError(`checkpoint: ${c.path}/config.json has no "model" config with a "kind"`);
  let model: M;
  if (opts.model) {
    const diff = configDiff(saved, opts.model.config);
    if (diff.length > 0)
      throw new CheckpointError(
        `checkpoint: ${c.path} holds a model whose config differs from the given model's in ${diff.join(', ')}`,
      );
    model = opts.model;
  } else {
    const build = opts.build ?? ((c: SavedModelConfig) => buildModel(c) as M);
    try {
      model = build(saved as SavedModelConfig);
      if (opts.device !== undefined && opts.device !== 'cpu') model.to(opts.device);
    } catch (e) {
      throw new CheckpointError(
        `checkpoint: cannot build the model of ${c.path}/config.json: ${(e as Error).message}`,
      );
    }
  }
  try {
    loadWeights(model, c.model, `${c.path}/model.safetensors`);
  } catch (e) {
    if (!opts.model) model.dispose();
    throw e;
  }
  const tensors = c.extra[OPTIMIZER_TENSORS_FILE];
  const hasOptimizerState = Object.keys(c.optimizer).length > 0;
  const restoreOptimizer = (opt: AnyOptimizer): void => {
    if (!hasOptimizerState || !tensors)
      throw new CheckpointError(`checkpoint: ${c.path} holds no optimizer state`);
    loadOptimizer(opt, c.optimizer, tensors);
  };
  if (opts.optimizer) restoreOptimizer(opts.optimizer);
  return {
    model,
    step: c.state.step,
    rng: c.state.rng,
    config: c.config,
    state: c.state,
    path: c.path,
    hasOptimizerState,
    restoreOptimizer,
  };
}
