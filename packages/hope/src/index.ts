/** @nl/hope — Hope LM and baselines, byte tokenizer, data, checkpoints. See README.md. */
export * from './data/index.js';
export * from './checkpoint/index.js';
export * from './models/index.js';
export * from './generate/index.js';
export * from './session/index.js';
export * from './export/index.js';
