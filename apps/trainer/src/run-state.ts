/**
 * Saving and restoring a training run through @nl/hope's atomic checkpoint folders:
 *
 *   model.safetensors  ← model.save().weights
 *   optimizer.json     ← model.save().optimizer (plus extra binary files, e.g. optimizer.safetensors)
 *   config.json        ← { format, vocabSize, trainer: <effective TrainConfig>, model: model.modelConfig() }
 *   state.json         ← { step, rng: { batches }, tokensSeen, trainSeconds, history }
 *
 * The batch RNG state and the full loss history make a resumed run continue exactly like an
 * uninterrupted one, plots included.
 */
import { checkpointExists, readCheckpoint, writeCheckpoint, type RngState } from '@nl/hope';
import type { TrainableLM } from './model-api.js';
import type { History } from './plots.js';

/** config.json format tag. */
export const RUN_CONFIG_FORMAT = 'nl-train/1';

/** Trainer state saved in state.json. */
export interface RunState {
  step: number;
  rng: { batches: RngState };
  tokensSeen: number;
  trainSeconds: number;
  history: History;
}

/** A checkpoint as the trainer sees it. */
export interface LoadedRun {
  trainerConfig: Record<string, unknown>;
  modelConfig: Record<string, unknown>;
  state: RunState;
  weights: Uint8Array;
  optimizer: Record<string, unknown>;
  extra: Record<string, Uint8Array>;
  path: string;
}

/** Write the run's checkpoint atomically. */
export async function saveRun(
  dir: string,
  model: TrainableLM,
  trainerConfig: object,
  state: RunState,
  onWarning?: (message: string) => void,
): Promise<void> {
  const m = await model.save();
  writeCheckpoint(
    dir,
    {
      model: m.weights,
      optimizer: m.optimizer,
      extra: m.extra,
      config: {
        format: RUN_CONFIG_FORMAT,
        vocabSize: 256,
        trainer: trainerConfig,
        model: model.modelConfig(),
      },
      state: { ...state },
    },
    { onWarning },
  );
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Read a run checkpoint and check the trainer's own fields.
 * @throws CheckpointError (missing/corrupt files) or Error naming the bad field
 */
export function loadRun(dir: string): LoadedRun {
  const c = readCheckpoint(dir);
  const where = `${c.path}/config.json`;
  if (c.config.format !== RUN_CONFIG_FORMAT)
    throw new Error(
      `checkpoint: ${where} is not an nl-train checkpoint (format ${JSON.stringify(c.config.format)})`,
    );
  if (!isObj(c.config.trainer) || !isObj(c.config.model))
    throw new Error(`checkpoint: ${where} lacks the "trainer" or "model" section`);
  const s = c.state as Record<string, unknown>;
  const rng = s.rng as Record<string, unknown> | undefined;
  const h = s.history as Record<string, unknown> | undefined;
  if (
    !isObj(rng) ||
    !Array.isArray(rng.batches) ||
    !isObj(h) ||
    !Array.isArray(h.train) ||
    !Array.isArray(h.val) ||
    typeof s.tokensSeen !== 'number'
  ) {
    throw new Error(`checkpoint: ${c.path}/state.json lacks rng.batches, tokensSeen or history`);
  }
  return {
    trainerConfig: c.config.trainer,
    modelConfig: c.config.model,
    state: {
      step: c.state.step,
      rng: { batches: rng.batches as RngState },
      tokensSeen: s.tokensSeen,
      trainSeconds: typeof s.trainSeconds === 'number' ? s.trainSeconds : 0,
      history: h as unknown as History,
    },
    weights: c.model,
    optimizer: c.optimizer,
    extra: c.extra,
    path: c.path,
  };
}

export { checkpointExists };
