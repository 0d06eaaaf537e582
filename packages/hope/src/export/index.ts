export { exportTransformerOnnx, type OnnxExportOptions } from './onnx-transformer.js';
