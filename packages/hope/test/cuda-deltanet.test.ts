/**
 * DeltaNetLM (GatedDeltaMemory on the fused memory.gatedDeltaRule op) on 'cuda' (the emulated
 * device without a GPU): built on the CPU with a seed and moved, forward logits, the loss and
 * every parameter gradient of lossAndBackward equal the CPU's within float32 rounding, for a
 * chunk size below T (several chunks) and above it.
 */
import { enableCudaEmulation } from '@nl/tensor/testing';
import { describe, it } from 'vitest';
import { DeltaNetLM } from '../src/models/deltanet.js';
import { expectSameRun, runLM, V } from './cuda-lm-helpers.js';

enableCudaEmulation();

const run = (device: 'cpu' | 'cuda', chunkSize: number) =>
  runLM(
    new DeltaNetLM({ vocabSize: V, dim: 16, layers: 2, heads: 2, seed: 3, chunkSize, learnInit: true }),
    device,
    false,
  );

describe('DeltaNetLM on cuda == cpu', () => {
  for (const chunkSize of [4, 64])
    it(`chunk size ${chunkSize}: logits, loss and every gradient`, () =>
      expectSameRun(run('cpu', chunkSize), run('cuda', chunkSize)));
});
