/**
 * The fused `hope.l2Normalize` op against its tensor-op reference (norm / add / div) on every
 * device it runs on (cpu, sim, 'cuda'): values and gradients, float64 and float32; gradients also
 * against finite differences; a zero row; bad input named.
 */
import { describe, expect, it } from 'vitest';
import { mul, sum, tensor, zeros, type Tensor } from '@nl/tensor';
import { gradcheck, testDevices } from '@nl/tensor/testing';
import { l2Normalize, l2NormalizeReference } from '../src/kernels/l2-normalize.js';

const DEVICES = testDevices();

function rand(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 4 - 2;
  });
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

/** Output and input gradient of f(x) under the loss Σ w ⊙ f(x). */
function run(
  f: (x: Tensor) => Tensor,
  x0: number[],
  w0: number[],
  shape: number[],
  dtype: 'float32' | 'float64',
  device: string,
) {
  const x = tensor(x0, { dtype })
    .reshape(shape)
    .to(device as 'cpu');
  x.requiresGrad = true;
  const w = tensor(w0, { dtype })
    .reshape(shape)
    .to(device as 'cpu');
  const y = f(x);
  sum(mul(y, w)).backward();
  return { y: y.to('cpu').dataSync(), g: x.grad!.to('cpu').dataSync() };
}

describe('hope.l2Normalize', () => {
  for (const device of DEVICES) {
    for (const [dtype, tol] of [
      ['float64', 1e-12],
      ['float32', 2e-6],
    ] as const) {
      it(`${device} ${dtype}: values and gradients == the reference chain (rows of 1, 5, 32)`, () => {
        for (const shape of [
          [3, 1],
          [2, 3, 5],
          [2, 4, 2, 32],
        ]) {
          const n = shape.reduce((a, b) => a * b, 1);
          const x0 = rand(n, n);
          const w0 = rand(n, n + 7);
          const fused = run((x) => l2Normalize(x), x0, w0, shape, dtype, device);
          const ref = run((x) => l2NormalizeReference(x), x0, w0, shape, dtype, device);
          expect(maxDiff(fused.y, ref.y), `y ${shape}`).toBeLessThan(tol);
          expect(maxDiff(fused.g, ref.g), `dx ${shape}`).toBeLessThan(tol);
        }
      });
    }
  }

  it('gradients match finite differences (float64, cpu)', () => {
    const x = tensor(rand(24, 3), { dtype: 'float64' }).reshape([4, 6]);
    x.requiresGrad = true;
    const r = gradcheck((t) => l2Normalize(t!), [x], { atol: 1e-7, rtol: 1e-6 }); // throws on a mismatch
    expect(r.checked).toBe(24);
    expect(r.maxAbsError).toBeLessThan(1e-7);
  });

  it('a zero row maps to zeros with gradient g / ε (the reference chain gives NaN there)', () => {
    const x = zeros([2, 3], { dtype: 'float64' });
    x.requiresGrad = true;
    const y = l2Normalize(x);
    expect(Array.from(y.dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
    sum(
      mul(
        y,
        tensor(
          [
            [1, 2, 3],
            [4, 5, 6],
          ],
          { dtype: 'float64' },
        ),
      ),
    ).backward();
    expect(
      maxDiff(
        x.grad!.dataSync(),
        [1, 2, 3, 4, 5, 6].map((v) => v / 1e-6),
      ),
    ).toBeLessThan(1e-6);
  });

  it('bad input is named', () => {
    expect(() => l2Normalize(tensor([1, 2], { dtype: 'int32' }))).toThrow(
      /l2Normalize: x must be a float32 or float64/,
    );
  });
});
