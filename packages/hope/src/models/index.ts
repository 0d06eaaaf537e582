/** @nl/hope models: the shared contract, the baseline LMs, presets and `buildModel`. */
export type { Decoder, LanguageModel, LMConfigBase, ModelKind } from './contract.js';
export { BlockLM, INIT_STD, nextTokenLoss, type BlockCache, type LMBlock } from './common.js';
export { StreamDecoder, type StepDecoder } from './stream-decoder.js';
export {
  FusedTransformerDecoder,
  INITIAL_KV_CAPACITY,
  fusedDecodeBlocker,
  type FusedAttentionBlock,
  type FusedTransformerParts,
} from '../kernels/transformer-decode.js';
export {
  FusedDeltaNetDecoder,
  fusedDeltaNetBlocker,
  type FusedDeltaNetBlock,
  type FusedDeltaNetParts,
} from '../kernels/deltanet-decode.js';
export {
  FusedTitansDecoder,
  fusedTitansBlocker,
  type FusedTitansBlock,
  type FusedTitansParts,
} from '../kernels/titans-decode.js';
export { FusedShellDecoder, type FusedShellParts } from '../kernels/fused-decode.js';
export { resolveShell, type ShellConfig } from './config-fields.js';
export { applyRope, ropeTables } from './rope.js';
export {
  TransformerBlock,
  TransformerLM,
  resolveTransformerConfig,
  transformerParamCount,
  type TransformerConfig,
  type TransformerConfigInput,
  type TransformerDecoderOptions,
} from './transformer.js';
export {
  DeltaNetBlock,
  DeltaNetLM,
  deltaNetParamCount,
  resolveDeltaNetConfig,
  type DeltaNetConfig,
  type DeltaNetConfigInput,
} from './deltanet.js';
export {
  TitansBlock,
  TitansLM,
  resolveTitansLMConfig,
  titansLMParamCount,
  TITANS_GATE_DEFAULTS,
  type TitansLMConfig,
  type TitansLMConfigInput,
} from './titans-lm.js';
export {
  PAPER_SHAPES,
  matchMlpHidden,
  preset,
  presetNames,
  registerPresets,
  type PresetName,
} from './presets.js';
export {
  buildModel,
  countParameters,
  modelKinds,
  registerModelKind,
  type ModelConfigInput,
  type ModelConstructor,
  type ParamCounter,
} from './build.js';
export * from './hope-index.js';
