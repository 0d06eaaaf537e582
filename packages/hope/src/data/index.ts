/**
 * @nl/hope data layer: byte tokenizer, corpora (SOTU, Moby-Dick, user text), the fixed
 * train/validation split, seeded batches. Re-exported from the package root.
 */
export { BYTE_VOCAB_SIZE, ByteTokenizer, ByteStreamDecoder, byteTokenizer } from './tokenizer.js';
export { Rng, type RngState } from './rng.js';
export {
  BUILTIN_CORPORA,
  CorpusError,
  DOCUMENT_SEPARATOR,
  type Corpus,
  type CorpusDocument,
} from './types.js';
export { corpusBytes, loadCorpus } from './corpus.js';
export { loadMobyDick, loadSotu } from './builtin.js';
export { loadTextPath, readTextFile } from './files.js';
export { splitCorpus, type CorpusSplit, type SplitOptions } from './split.js';
export { RandomBatches, sequentialBatches, sequentialWindowCount, type TokenBatch } from './batches.js';
export {
  associativeRecall,
  needleInHaystack,
  type NeedleOptions,
  type RecallOptions,
  type SyntheticExample,
} from './synthetic.js';
export {
  multiQueryRecall,
  mqarLength,
  resolveMqarOptions,
  type MqarExample,
  type MqarOptions,
} from './mqar.js';
export {
  FORMAL_END,
  FORMAL_SEPARATOR,
  FORMAL_TASKS,
  anbnTask,
  duplicateTask,
  dyckTask,
  formalLanguageExample,
  modularArithmeticTask,
  parityTask,
  resolveFormalOptions,
  reverseTask,
  type FormalExample,
  type FormalOptions,
  type FormalTaskName,
} from './formal-languages.js';
export {
  NIAH_NOISE,
  niahOverhead,
  singleNeedle,
  type NiahExample,
  type NiahOptions,
  type NiahVariant,
} from './niah.js';
export * from './mad.js';
