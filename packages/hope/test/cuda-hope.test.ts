/**
 * HopeLM (self-modifying Titans on the fused memory.selfModifyingTitans op, CMS of tensor ops) on
 * 'cuda' (the emulated device without a GPU): built on the CPU with a seed and moved, forward
 * logits, the loss and every parameter gradient of lossAndBackward, and the parameters after one
 * AdamW step, equal the CPU's within float32 rounding; chunks shorter than T (several snapshots in
 * a call; chunk 1) and longer than T.
 */
import { noGrad, tensor, type Device, type Tensor } from '@nl/tensor';
import { AdamW } from '@nl/optim';
import { assertClose, enableCudaEmulation } from '@nl/tensor/testing';
import { describe, expect, it } from 'vitest';
import { HopeLM } from '../src/models/hope.js';
import type { HopeConfigInput } from '../src/models/hope-config.js';

enableCudaEmulation();

const V = 13,
  B = 2,
  T = 11;
const IDS = Array.from({ length: B * (T + 1) }, (_, i) => (i * 7 + 3) % V);
const arr = (t: Tensor): number[] => Array.from(t.dataSync());

function run(device: Device, extra: Partial<HopeConfigInput>) {
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
  const m = device === 'cpu' ? m0 : m0.to(device);
  const logits = noGrad(() =>
    arr(m.forward(tensor(IDS.slice(0, T), { shape: [1, T], dtype: 'int32', device }))),
  );
  const loss = m.lossAndBackward(tensor(IDS, { shape: [B, T + 1], dtype: 'int32', device }));
  const grads = m.namedParameters().map(([n, p]) => [n, p.grad === null ? null : arr(p.grad)] as const);
  new AdamW(m.parameters(), { lr: 1e-2 }).step();
  const after = m.namedParameters().map(([, p]) => arr(p));
  return { logits, loss, grads, after };
}

describe('HopeLM on cuda == cpu', () => {
  const cases: [string, Partial<HopeConfigInput>][] = [
    ['chunks 4 / 2 (several snapshots a call)', { chunkMem: 4, chunkOther: 2 }],
    ['chunks 32 / 16 (longer than T, as hope-tiny)', { chunkMem: 32, chunkOther: 16 }],
    ['chunk 1 for mem, 3 for the other memories', { chunkMem: 1, chunkOther: 3 }],
  ];
  for (const [name, extra] of cases)
    it(`${name}: logits, loss, every gradient and a training step`, () => {
      const a = run('cpu', extra);
      const b = run('cuda', extra);
      const tol = { rtol: 1e-3, atol: 1e-5 };
      assertClose('logits', a.logits, b.logits, tol);
      expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-4 * Math.max(1, Math.abs(a.loss)));
      a.grads.forEach(([n, g], i) => {
        expect(b.grads[i]![0]).toBe(n);
        if (g === null) expect(b.grads[i]![1]).toBeNull();
        else assertClose(`grad ${n}`, g, b.grads[i]![1]!, tol);
      });
      a.after.forEach((p, i) => assertClose(`param ${a.grads[i]![0]} after the step`, p, b.after[i]!, tol));
    });
});
