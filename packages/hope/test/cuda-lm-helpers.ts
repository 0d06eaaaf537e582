/**
 * Shared by the LM-on-cuda tests (cuda-titans, cuda-deltanet, cuda-hope): one seeded model run on
 * a device (forward logits, loss and every parameter gradient of lossAndBackward, optionally the
 * parameters after one AdamW step) and the comparison of a 'cuda' run with the CPU's within
 * float32 rounding.
 */
import { AdamW } from '@nl/optim';
import { noGrad, tensor, type Device, type Tensor } from '@nl/tensor';
import { assertClose } from '@nl/tensor/testing';
import { expect } from 'vitest';

export const V = 13,
  B = 2,
  T = 11;
const IDS = Array.from({ length: B * (T + 1) }, (_, i) => (i * 7 + 3) % V);
const arr = (t: Tensor): number[] => Array.from(t.dataSync());

/** What the tests need of a language model. */
interface LM {
  to(device: Device): LM;
  forward(ids: Tensor): Tensor;
  lossAndBackward(ids: Tensor): number;
  namedParameters(): [string, Tensor][];
  parameters(): Tensor[];
}

export interface LMRun {
  logits: number[];
  loss: number;
  grads: (readonly [string, number[] | null])[];
  /** The parameters after one AdamW step (lr 1e-2), when asked for. */
  after?: number[][];
}

/** Runs `m0` (built on the CPU) on `device`: logits of one row, the loss and its gradients. */
export function runLM(m0: LM, device: Device, step: boolean): LMRun {
  const m = device === 'cpu' ? m0 : m0.to(device);
  const logits = noGrad(() =>
    arr(m.forward(tensor(IDS.slice(0, T), { shape: [1, T], dtype: 'int32', device }))),
  );
  const loss = m.lossAndBackward(tensor(IDS, { shape: [B, T + 1], dtype: 'int32', device }));
  const grads = m.namedParameters().map(([n, p]) => [n, p.grad === null ? null : arr(p.grad)] as const);
  if (!step) return { logits, loss, grads };
  new AdamW(m.parameters(), { lr: 1e-2 }).step();
  return { logits, loss, grads, after: m.namedParameters().map(([, p]) => arr(p)) };
}

/** `b` (cuda) equals `a` (cpu) within float32 rounding: logits, loss, gradients (and step). */
export function expectSameRun(a: LMRun, b: LMRun): void {
  const tol = { rtol: 1e-3, atol: 1e-5 };
  assertClose('logits', a.logits, b.logits, tol);
  expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-4 * Math.max(1, Math.abs(a.loss)));
  a.grads.forEach(([n, g], i) => {
    expect(b.grads[i]![0]).toBe(n);
    if (g === null) expect(b.grads[i]![1]).toBeNull();
    else assertClose(`grad ${n}`, g, b.grads[i]![1]!, tol);
  });
  expect(b.after === undefined).toBe(a.after === undefined);
  a.after?.forEach((p, i) => assertClose(`param ${a.grads[i]![0]} after the step`, p, b.after![i]!, tol));
}
