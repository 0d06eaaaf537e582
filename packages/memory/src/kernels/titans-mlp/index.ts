/** Titans MLP memory (2-layer residual, mini-batch chunks): token-level reference and its backward (no fused kernel yet). */
export {
  titansMlpReference,
  checkTitansMlp,
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
