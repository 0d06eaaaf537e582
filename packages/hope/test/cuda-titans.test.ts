/**
 * TitansLM (TitansMemory on the fused memory.titansMlp op, impl 'fused') on 'cuda' (the emulated
 * device without a GPU): built on the CPU with a seed and moved, forward logits, the loss and every
 * parameter gradient of lossAndBackward, and the parameters after one AdamW step, equal the CPU's
 * within float32 rounding, for a chunk size below T (whole chunks on the fused kernel, the partial
 * one at the end on the token loop) and equal to T (one whole chunk).
 */
import { enableCudaEmulation } from '@nl/tensor/testing';
import { describe, it } from 'vitest';
import { TitansLM } from '../src/models/titans-lm.js';
import { expectSameRun, runLM, T, V } from './cuda-lm-helpers.js';

enableCudaEmulation();

const run = (device: 'cpu' | 'cuda', chunkSize: number) =>
  runLM(
    new TitansLM({ vocabSize: V, dim: 16, layers: 2, heads: 2, seed: 3, chunkSize, impl: 'fused' }),
    device,
    true,
  );

describe('TitansLM on cuda == cpu', () => {
  for (const chunkSize of [4, T])
    it(`chunk size ${chunkSize}: logits, loss, every gradient and a training step`, () =>
      expectSameRun(run('cpu', chunkSize), run('cuda', chunkSize)));
});
