/** The memory modules of @nl/memory (on @nl/tensor autograd). */
export * from './base.js';
export { setDebugChecks, debugChecksEnabled } from './check.js';
export * from './linear.js';
export * from './titans.js';
export * from './cms.js';
export * from './self-modifying.js';
export * from './fused-delta.js';
export * from './fused-titans.js';
export * from './fused-titans-linear.js';
