/**
 * HopeLM (self-modifying Titans on the fused memory.selfModifyingTitans op, CMS of tensor ops) on
 * 'cuda' (the emulated device without a GPU): built on the CPU with a seed and moved, forward
 * logits, the loss and every parameter gradient of lossAndBackward, and the parameters after one
 * AdamW step, equal the CPU's within float32 rounding; chunks shorter than T (several snapshots in
 * a call; chunk 1) and longer than T.
 */
import { enableCudaEmulation } from '@nl/tensor/testing';
import { describe, it } from 'vitest';
import { HopeLM } from '../src/models/hope.js';
import type { HopeConfigInput } from '../src/models/hope-config.js';
import { expectSameRun, runLM, V } from './cuda-lm-helpers.js';

enableCudaEmulation();

function run(device: 'cpu' | 'cuda', extra: Partial<HopeConfigInput>) {
  const m0 = new HopeLM({
    kind: 'hope',
    vocabSize: V,
    dim: 16,
    layers: 2,
    heads: 2,
    memoryHidden: 4,
    cmsLevels: [
      { chunkSize: 4, lr: 1e-3 },
      { chunkSize: 8, lr: 1e-3 },
    ],
    cmsHidden: 24,
    seed: 3,
    selfModImpl: 'fused',
    ...extra,
  } as HopeConfigInput);
  return runLM(m0, device, true);
}

describe('HopeLM on cuda == cpu', () => {
  const cases: [string, Partial<HopeConfigInput>][] = [
    ['chunks 4 / 2 (several snapshots a call)', { chunkMem: 4, chunkOther: 2 }],
    ['chunks 32 / 16 (longer than T, as hope-tiny)', { chunkMem: 32, chunkOther: 16 }],
    ['chunk 1 for mem, 3 for the other memories', { chunkMem: 1, chunkOther: 3 }],
  ];
  for (const [name, extra] of cases)
    it(`${name}: logits, loss, every gradient and a training step`, () =>
      expectSameRun(run('cpu', extra), run('cuda', extra)));
});
