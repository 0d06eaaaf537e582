import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';

describe('memory: tidy, keep, dispose, memory()', () => {
  it('tidy disposes what it created except results and kept tensors', () => {
    const before = T.memory();
    let kept: T.Tensor | null = null;
    const r = T.tidy(() => {
      const a = T.ones([4]);
      const b = a.mul(2);
      kept = T.keep(b.add(1));
      return { out: b.sum(), list: [a.exp()] };
    });
    expect(r.out.item()).toBe(8);
    expect(r.list[0].isDisposed).toBe(false);
    expect(kept!.isDisposed).toBe(false);
    expect(T.memory().numTensors).toBe(before.numTensors + 3);
    r.out.dispose();
    r.list[0].dispose();
    kept!.dispose();
    expect(T.memory()).toEqual(before);
  });
  it('nested tidy moves results to the parent scope; a throw still cleans up', () => {
    const before = T.memory().numTensors;
    T.tidy(() => {
      const inner = T.tidy(() => T.ones([2]).add(1));
      expect(inner.isDisposed).toBe(false);
    });
    expect(T.memory().numTensors).toBe(before);
    expect(() =>
      T.tidy(() => {
        T.ones([3]);
        throw new Error('x');
      }),
    ).toThrow('x');
    expect(T.memory().numTensors).toBe(before);
    expect(() => T.tidy(() => Promise.resolve(1) as unknown as number)).toThrow(/Promise/);
  });
  it('bytes count each storage once however many views share it', () => {
    const before = T.memory();
    const x = T.zeros([10], { dtype: 'float64' });
    const v1 = x.reshape([2, 5]);
    const v2 = v1.t();
    expect(T.memory().bytes - before.bytes).toBe(80);
    expect(T.memory().numTensors - before.numTensors).toBe(3);
    x.dispose();
    v1.dispose();
    expect(T.memory().bytes - before.bytes).toBe(80); // v2 still uses it
    v2.dispose();
    expect(T.memory()).toEqual(before);
  });
  it('use after dispose is a clear error; dispose is idempotent; Symbol.dispose works', () => {
    const x = T.ones([2, 3]);
    x.dispose();
    x.dispose();
    expect(x.isDisposed).toBe(true);
    expect(() => x.add(1)).toThrow(/tensor \[2, 3\] float32 was used after dispose\(\)/);
    expect(() => x.dataSync()).toThrow(/used after dispose/);
    const before = T.memory().numTensors;
    {
      using y = T.ones([2]);
      expect(y.numel).toBe(2);
    }
    expect(T.memory().numTensors).toBe(before);
  });
  it('training-step loop keeps numTensors and bytes flat (grads persist across tidy)', () => {
    T.manualSeed(1);
    const w = T.randn([8, 4]);
    w.requiresGrad = true;
    const x = T.randn([16, 8]);
    const step = () =>
      T.tidy(() => {
        const loss = x.matmul(w).tanh().square().mean();
        loss.backward();
        T.noGrad(() => {
          const v = w.view;
          const g = w.gradView!;
          for (let i = 0; i < v.length; i++) v[i] -= 0.1 * g[i];
          g.fill(0);
        });
        return loss.item();
      });
    const first = step();
    const m0 = T.memory();
    let last = Infinity;
    for (let i = 0; i < 50; i++) last = step();
    expect(T.memory()).toEqual(m0);
    expect(last).toBeLessThan(first);
    expect(w.grad).not.toBeNull();
  });
});
