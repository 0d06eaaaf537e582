/** @nl/hope checkpoint folders: atomic write, validated read. Re-exported from the package root. */
export {
  CHECKPOINT_FORMAT,
  CheckpointError,
  checkpointExists,
  readCheckpoint,
  writeCheckpoint,
  type CheckpointContents,
  type CheckpointState,
  type LoadedCheckpoint,
} from './folder.js';
