/**
 * TitansLM (TitansMemory on the fused memory.titansMlp op, impl 'fused') on 'cuda' (the emulated
 * device without a GPU): built on the CPU with a seed and moved, forward logits, the loss and every
 * parameter gradient of lossAndBackward, and the parameters after one AdamW step, equal the CPU's
 * within float32 rounding, for a chunk size below T (whole chunks on the fused kernel, the partial
 * one at the end on the token loop) and equal to T (one whole chunk).
 */
import { noGrad, tensor, type Device, type Tensor } from '@nl/tensor';
import { AdamW } from '@nl/optim';
import { assertClose, enableCudaEmulation } from '@nl/tensor/testing';
import { describe, expect, it } from 'vitest';
import { TitansLM } from '../src/models/titans-lm.js';

enableCudaEmulation();

const V = 13,
  B = 2,
  T = 11;
const IDS = Array.from({ length: B * (T + 1) }, (_, i) => (i * 7 + 3) % V);
const arr = (t: Tensor): number[] => Array.from(t.dataSync());

function run(device: Device, chunkSize: number) {
  const m0 = new TitansLM({ vocabSize: V, dim: 16, layers: 2, heads: 2, seed: 3, chunkSize, impl: 'fused' });
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

describe('TitansLM on cuda == cpu', () => {
  for (const chunkSize of [4, T])
    it(`chunk size ${chunkSize}: logits, loss, every gradient and a training step`, () => {
      const a = run('cpu', chunkSize);
      const b = run('cuda', chunkSize);
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
