/** @nl/memory — associative memories that learn in context; see README.md. */
export const packageName = '@nl/memory';
export * from './contract.js';
export * from './modules/index.js';
export * from './kernels/index.js';
