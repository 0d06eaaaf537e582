/**
 * The MAD synthetic tasks (Poli et al. 2024, "Mechanistic Design and Scaling of Hybrid
 * Architectures"), on byte ids at CPU sizes: in-context recall, noisy recall, fuzzy recall,
 * selective copying (and plain copying), compression (in a causal-LM form) and memorization.
 * Each generator draws one aligned {@link MadExample} from the caller's Rng; see the files below
 * for each task's definition and how it follows or departs from mad-lab's.
 */
export { MAD_IGNORE, type MadExample } from './mad-common.js';
export {
  madInContextRecall,
  madNoisyRecall,
  resolveMadRecall,
  type MadRecallLayout,
  type MadRecallOptions,
} from './mad-recall.js';
export { madFuzzyRecall, resolveMadFuzzy, type MadFuzzyOptions } from './mad-fuzzy.js';
export {
  madCompression,
  madMemorization,
  madMemorizationMap,
  madSelectiveCopying,
  resolveMadCompression,
  resolveMadCopy,
  resolveMadMemorization,
  type MadCompressionOptions,
  type MadCopyOptions,
  type MadMemorizationOptions,
} from './mad-copy.js';
