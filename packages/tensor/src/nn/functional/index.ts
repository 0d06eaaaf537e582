/**
 * nn.functional: the fused NN ops (each a custom op with its own forward and backward).
 */
export { crossEntropy, type CrossEntropyOptions } from './cross-entropy.js';
export { rmsNorm, layerNorm } from './norm.js';
export { embedding } from './embedding.js';
export { causalConv1d } from './conv1d.js';
export { dropout, type DropoutOptions } from './dropout.js';
export { scaledDotProductAttention, type AttentionOptions } from './attention.js';
export { linear } from './linear.js';
