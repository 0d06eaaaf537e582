/** Titans linear memory (mini-batch chunks): token-level reference, its backward, and the fused native kernel. */
export type * from './types.js';
export { titansLinearReference, titansLinearStep, readMemory } from './ref.js';
export { titansLinearBackwardReference } from './ref-backward.js';
export { titansLinearForward, titansLinearBackward } from './native.js';
