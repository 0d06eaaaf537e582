/**
 * @nl/memory kernels: fused chunk kernels and their token-by-token references, on plain typed
 * arrays with layout [B, T, H, D]. Two chunk semantics:
 *   - exact tiling (gated delta rule): output does not depend on the chunk size;
 *   - mini-batch (Titans): inner gradients at the chunk-start state; chunk size is a hyperparameter.
 */
export type { FloatArray, SeqShape } from './shape.js';
export * from './delta-rule/index.js';
export * from './titans-linear/index.js';
export * from './dgd-linear/index.js';
export * from './titans-mlp/index.js';
export * from './self-mod/index.js';
