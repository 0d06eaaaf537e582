/** HopeLM's public surface (models/index.ts re-exports this file). */
export { HopeLM, type HopeFastState } from './hope.js';
export { HopeBlock, type HopeBlockState } from './hope-block.js';
export {
  HOPE_DEFAULTS,
  hopeParamCount,
  resolveHopeConfig,
  transformerPPParamCount,
  type HopeCmsImpl,
  type HopeCmsLevel,
  type HopeConfig,
  type HopeConfigInput,
  type HopeTrainGrad,
} from './hope-config.js';
export { HOPE_LIVE_MEMORY_INIT, HOPE_PRESETS, hopePreset, paramMatchedCmsHidden } from './hope-presets.js';
export {
  HopeDecoder,
  cloneFastState,
  disposeFastState,
  fusedHopeParts,
  type HopeDecoderOptions,
} from './hope-decoder.js';
export {
  FusedHopeState,
  fusedHopeBlocker,
  type FusedHopeBlock,
  type FusedHopeConfig,
  type FusedHopeParts,
} from '../kernels/hope-decode.js';
export {
  segmentCuts,
  teacherForced,
  teacherForcedOnDevice,
  type OnlineModel,
  type OnlineResult,
  type OnlineTensorResult,
} from './hope-online.js';
