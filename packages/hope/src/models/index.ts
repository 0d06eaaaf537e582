/** @nl/hope models: the shared contract, the baseline LMs, presets and `buildModel`. */
export type { Decoder, LanguageModel, LMConfigBase, ModelKind } from './contract.js';
export {
  BlockLM,
  INIT_STD,
  checkBatch,
  checkTokens,
  nextTokenLoss,
  type BlockCache,
  type LMBlock,
} from './common.js';
export { StreamDecoder } from './stream-decoder.js';
export { resolveShell, type ShellConfig } from './config-fields.js';
export { applyRope, ropeTables } from './rope.js';
export {
  TransformerBlock,
  TransformerLM,
  resolveTransformerConfig,
  transformerParamCount,
  type TransformerConfig,
  type TransformerConfigInput,
} from './transformer.js';
export {
  buildModel,
  modelKinds,
  registerModelKind,
  type ModelConfigInput,
  type ModelConstructor,
} from './build.js';
// ── HopeLM exports: added by the Hope helper (one line for hope.ts). ──
