export { exportTransformerOnnx, type OnnxExportOptions } from './onnx-transformer.js';
export { exportDeltaNetOnnx, exportDeltaNetStepOnnx, initialDeltaNetState } from './onnx-deltanet.js';
export { type RecurrentExportMode, type RecurrentExportOptions } from './onnx-recurrent.js';
export {
  exportTitansOnnx,
  initialTitansState,
  TITANS_STATE_NAMES,
  type TitansStateName,
} from './onnx-titans.js';
export { exportHopeOnnx, type HopeOnnxOptions } from './onnx-hope.js';
export { hopeOnnxState, hopeStateNames, type HopeOnnxValue } from './onnx-hope-state.js';
