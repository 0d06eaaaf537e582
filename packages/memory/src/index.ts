/** @nl/memory — see README.md. (Being built.) */
export const packageName = '@nl/memory';
export * from './kernels/index.js';
