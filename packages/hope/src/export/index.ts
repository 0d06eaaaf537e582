export { exportTransformerOnnx, type OnnxExportOptions } from './onnx-transformer.js';
export { exportDeltaNetStepOnnx, initialDeltaNetState } from './onnx-deltanet.js';
