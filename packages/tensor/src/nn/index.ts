/**
 * @nl/tensor's `nn`: Module and layers, the fused functional ops, and initialisers.
 *
 *   import { nn } from '@nl/tensor';
 *   const mlp = new nn.MLP(16, 64, { activation: 'gelu' });
 *   const loss = nn.functional.crossEntropy(mlp.forward(x), targets);
 */
export { Module, type LoadStateDictOptions, type LoadStateDictResult } from './module.js';
export { Linear, type LinearOptions } from './layers/linear.js';
export { Embedding } from './layers/embedding.js';
export { RMSNorm, LayerNorm, type NormOptions } from './layers/norm.js';
export { MLP, SwiGLU, type Activation, type MLPOptions } from './layers/mlp.js';
export { CausalConv1d } from './layers/conv.js';
export { Dropout } from './layers/dropout.js';
export { ModuleList, Sequential } from './layers/containers.js';
export { CausalSelfAttention } from './layers/attention.js';
export type { ParamOptions } from './layers/options.js';
export * as init from './init.js';
export * as functional from './functional/index.js';
