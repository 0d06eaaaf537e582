/** Gated delta rule (exact tiling): token-by-token reference, its backward, and the fused native kernel. */
export type * from './types.js';
export { deltaRuleReference, deltaRuleStep, effectiveValue } from './ref.js';
export { deltaRuleBackwardReference } from './ref-backward.js';
export { deltaRuleForward, deltaRuleBackward, type DeltaRuleKernelOptions } from './native.js';
