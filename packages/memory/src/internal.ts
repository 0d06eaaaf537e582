/**
 * `@nl/memory/internal` — for packages that build on the memory kernels (a CUDA backend, other
 * fused ops), not for model code: the argument checks the modules and kernels share, the
 * allocation helper, and the raw fused self-modifying op. Nothing here is needed to build, train
 * or run a memory; the package root (`@nl/memory`) has that.
 */
export { checkSeq, checkKV, checkGates, checkChunk, checkFiniteDebug } from './modules/check.js';
export {
  checkShape,
  checkArray,
  checkFinite,
  checkChunkSize,
  checkSameDtype,
  dimsText,
} from './kernels/shape.js';
export { allocLike } from './kernels/alloc.js';
export {
  deltaRuleOptions,
  checkDeltaRuleInputs,
  checkDeltaRuleGradOutputs,
} from './kernels/delta-rule/types.js';
export { titansOptions, checkTitansInputs, checkTitansGradOutputs } from './kernels/titans-linear/types.js';
export { checkTitansMlp } from './kernels/titans-mlp/ref.js';
export { checkDgdInputs, dgdOptions } from './kernels/dgd-linear/ref.js';
export { fusedSelfMod, selfModFused, type FusedSelfModAttrs } from './modules/self-modifying-fused.js';
