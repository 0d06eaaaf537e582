/** Titans MLP memory (2-layer residual, mini-batch chunks): token-level reference, its backward, and the native kernel (v1). */
export {
  titansMlpReference,
  silu,
  siluGrad,
  siluGrad2,
  type TitansMlpInputs,
  type TitansMlpOptions,
  type TitansMlpOutputs,
} from './ref.js';
export {
  titansMlpBackwardReference,
  type TitansMlpGradOutputs,
  type TitansMlpGrads,
} from './ref-backward.js';
export {
  titansMlpForward,
  titansMlpBackward,
  type TitansMlpResult,
  type TitansMlpNativeGrads,
} from './native.js';
