import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { assertClose, gradcheck } from '../src/index.js';
import { rt } from './helpers.js';

describe('autograd engine', () => {
  it('accumulates into leaves across backward calls, in place (live gradView)', () => {
    const x = T.tensor([1, 2, 3], { requiresGrad: true, dtype: 'float64' });
    x.mul(x).sum().backward();
    const gv = x.gradView!;
    expect(Array.from(gv)).toEqual([2, 4, 6]);
    x.sum().backward();
    expect(Array.from(gv)).toEqual([3, 5, 7]); // same array updated
    expect(x.grad!.toArray()).toEqual([3, 5, 7]);
  });
  it('a tensor used twice gets both contributions; diamond graphs', () => {
    const x = T.tensor([2], { requiresGrad: true, dtype: 'float64' });
    const y = x.mul(3);
    const z = y.mul(y).add(y.exp()); // dz/dx = 3*(2y + e^y)
    z.backward();
    assertClose('diamond', [3 * (2 * 6 + Math.exp(6))], x.grad!);
  });
  it('backward with an explicit gradient; non-scalar without one throws', () => {
    const x = rt([2, 3], 1);
    x.requiresGrad = true;
    const y = x.mul(2);
    expect(() => y.backward()).toThrow(
      /grad can be omitted only for single-element outputs, got shape \[2, 3\]/,
    );
    expect(() => y.backward(T.ones([3, 2], { dtype: 'float64' }))).toThrow(
      /gradient shape \[3, 2\] does not match output shape \[2, 3\]/,
    );
    y.backward(T.full([2, 3], 0.5, { dtype: 'float64' }));
    expect(Array.from(x.grad!.dataSync())).toEqual([1, 1, 1, 1, 1, 1]);
  });
  it('errors: int tensors, no grad, freed graph, disposed root', () => {
    expect(() => T.tensor([1], { dtype: 'int32', requiresGrad: true })).toThrow(
      /only float tensors can require gradients, got int32/,
    );
    const i = T.tensor([1, 2], { dtype: 'int32' });
    expect(() => (i.requiresGrad = true)).toThrow(/only float tensors/);
    expect(() => i.sum().backward()).toThrow(/cannot backpropagate through an int32 tensor/);
    expect(() => T.tensor([1]).sum().backward()).toThrow(/does not require grad/);
    const x = T.tensor([1, 2], { requiresGrad: true });
    const l = x.mul(x).sum();
    l.backward();
    expect(() => l.backward()).toThrow(/already freed by an earlier backward.*retainGraph/);
    const l2 = x.mul(x).sum();
    l2.backward(undefined, { retainGraph: true });
    l2.backward();
    expect(x.grad!.toArray()).toEqual([6, 12]); // 3 backwards of sum(x^2) at x = [1, 2]
    const d = x.mul(2).sum();
    d.dispose();
    expect(() => d.backward()).toThrow(/used after dispose/);
  });
  it('noGrad stops recording; enableGrad inside it records again', () => {
    const x = T.tensor([1], { requiresGrad: true });
    const y = T.noGrad(() => x.mul(2));
    expect(y.requiresGrad).toBe(false);
    expect(T.isGradEnabled()).toBe(true);
    T.noGrad(() => {
      expect(T.isGradEnabled()).toBe(false);
      expect(T.enableGrad(() => x.mul(2)).requiresGrad).toBe(true);
    });
    expect(() =>
      T.noGrad(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(T.isGradEnabled()).toBe(true);
  });
  it('intermediates disposed (e.g. by tidy) before backward do not break it', () => {
    const w = T.tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { requiresGrad: true, dtype: 'float64' },
    );
    const loss = T.tidy(() => w.exp().matmul(w).sum());
    loss.backward();
    gradcheck((t) => t.exp().matmul(t).sum(), [w.detach()]);
    const ref = w.detach().clone();
    ref.requiresGrad = true;
    ref.exp().matmul(ref).sum().backward();
    assertClose('grad', ref.grad!, w.grad!);
  });
  it('gradients through an in-context memory update W1 = W0 - lr (W0 k - v) k^T, loss on W1 q', () => {
    // the outer (meta) gradient w.r.t. W0, k, v, q flows through the inner update
    const f = (W0: T.Tensor, k: T.Tensor, v: T.Tensor, q: T.Tensor) => {
      const err = W0.matmul(k).sub(v); // [d, 1]
      const W1 = W0.sub(err.matmul(k.t()).mul(0.3)); // [d, d]
      const W2 = W1.sub(W1.matmul(q).sub(v).matmul(q.t()).mul(0.2)); // a second step, through W1
      return W2.matmul(q).tanh().square().sum();
    };
    gradcheck(f, [rt([4, 4], 1), rt([4, 1], 2), rt([4, 1], 3), rt([4, 1], 4)]);
  });
  it('a small MLP: gradcheck of every parameter', () => {
    const x = rt([5, 3], 10);
    const y = T.tensor([0, 2, 1, 1, 0], { dtype: 'int32' });
    const f = (w1: T.Tensor, b1: T.Tensor, w2: T.Tensor) => {
      const h = x.matmul(w1).add(b1).gelu();
      const logits = h.matmul(w2);
      const lp = logits.logSoftmax(-1);
      return lp.gather(1, y.unsqueeze(1)).mean().neg();
    };
    gradcheck(f, [rt([3, 4], 11), rt([4], 12), rt([4, 3], 13)]);
  });
  it('every registered built-in op has a rule and the table refuses duplicates', () => {
    for (const op of [
      'add',
      'matmul',
      'softmax',
      'gather',
      'cumprod',
      'pad',
      'cat',
      'where',
      'cast',
      'slice',
    ]) {
      expect(T.hasGradRule(op)).toBe(true);
    }
    expect(() => T.defineGrad('add', () => [])).toThrow(/already has a backward rule/);
  });
  it('to(dtype) is differentiable between float dtypes; to(same) returns itself', () => {
    const x = T.tensor([1.5, 2.5], { requiresGrad: true, dtype: 'float64' });
    const y = x.to('float32');
    expect(y.dtype).toBe('float32');
    y.mul(y).sum().backward();
    expect(x.grad!.dtype).toBe('float64');
    expect(x.grad!.toArray()).toEqual([3, 5]);
    expect(x.to('float64')).toBe(x);
    expect(x.to('cpu')).toBe(x);
    expect(T.tensor([1.7, -1.7]).to('int32').toArray()).toEqual([1, -1]);
  });
});

describe('backward frees gradients as it goes', () => {
  it('live tensors during a 300-op chain backward stay near the frontier, not the chain length', () => {
    let during = -1;
    const probe = T.defineOp({
      name: 'test.memoryProbe',
      forward: (_c, [x]) => x.mul(1),
      backward: (_c, [g]) => {
        during = T.memory().numTensors;
        return [g];
      },
    });
    const x = T.ones([64], { requiresGrad: true, dtype: 'float64' });
    const before = T.memory().numTensors;
    const loss = T.tidy(() => {
      let y = probe([x]) as T.Tensor;
      for (let i = 0; i < 300; i++) y = y.mul(1.001).add(0.5);
      return y.sum();
    });
    loss.backward();
    expect(during).toBeGreaterThan(0);
    expect(during - before).toBeLessThan(30);
    assertClose('grad', new Float64Array(64).fill(1.001 ** 300), x.grad!, { rtol: 1e-12 });
    loss.dispose();
  });
});
