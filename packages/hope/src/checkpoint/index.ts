/**
 * @nl/hope checkpoints: atomic checkpoint folders (folder.ts), exact weight and optimizer-state
 * encodings (model-state.ts), and `saveCheckpoint` / `loadCheckpoint` for a model with its
 * optimizer (model-checkpoint.ts). Re-exported from the package root.
 */
export {
  CHECKPOINT_FORMAT,
  CheckpointError,
  acquireCheckpointLock,
  checkpointExists,
  readCheckpoint,
  writeCheckpoint,
  type CheckpointContents,
  type CheckpointLock,
  type LockHolder,
  type WriteCheckpointOptions,
  type WriteCheckpointResult,
  type CheckpointState,
  type LoadedCheckpoint,
} from './folder.js';
export {
  OPTIMIZER_FORMAT,
  OPTIMIZER_TENSORS_FILE,
  encodeOptimizer,
  encodeWeights,
  loadOptimizer,
  loadWeights,
  type AnyOptimizer,
  type EncodedOptimizer,
} from './model-state.js';
export {
  loadCheckpoint,
  saveCheckpoint,
  type LoadCheckpointOptions,
  type RestoredCheckpoint,
  type SaveCheckpointOptions,
  type SavedModelConfig,
} from './model-checkpoint.js';
