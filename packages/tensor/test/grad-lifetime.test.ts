// Gradient ownership and leak-tracker records (issue 15, "Memory"): `t.grad = null` frees the
// gradient, `takeGrad()` hands it over, and a disposed tensor leaves no FinalizationRegistry
// record behind (a synchronous loop must not grow the heap).
import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';

describe('Tensor.grad ownership', () => {
  it('t.grad = null disposes the gradient (no counted tensor left)', () => {
    const x = T.randn([3], { requiresGrad: true });
    const before = T.memory().numTensors;
    for (let i = 0; i < 10; i++) {
      T.tidy(() => x.mul(2).sum().backward());
      x.grad = null;
    }
    expect(T.memory().numTensors).toBe(before);
    x.dispose();
  });
  it('assigning a new gradient disposes the old one; takeGrad hands it over alive', () => {
    const x = T.zeros([2], { requiresGrad: true });
    const g1 = T.ones([2]);
    const g2 = T.ones([2]);
    x.grad = g1;
    x.grad = g2;
    expect(g1.isDisposed).toBe(true);
    x.grad = g2; // same tensor: kept
    expect(g2.isDisposed).toBe(false);
    const taken = x.takeGrad();
    expect(taken).toBe(g2);
    expect(x.grad).toBe(null);
    x.dispose();
    expect(g2.isDisposed).toBe(false);
    g2.dispose();
    expect(() => {
      (x as unknown as { grad: unknown }).grad = 3;
    }).toThrow(TypeError);
  });
});

describe('leak warnings after unregister-on-dispose', () => {
  it('undisposed tensors are still counted when collected; disposed ones are not', async () => {
    const { setFlagsFromString } = await import('node:v8');
    const { runInNewContext } = await import('node:vm');
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { leakedCount } = await import('../src/memory.js');
    const settle = async () => {
      for (let i = 0; i < 3; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await settle();
    const c0 = leakedCount();
    (() => {
      for (let i = 0; i < 8; i++) T.zeros([2048]).dispose(); // 8 KiB each: always watched
    })();
    await settle();
    expect(leakedCount()).toBe(c0);
    const before = T.memory().numTensors;
    (() => {
      for (let i = 0; i < 8; i++) T.zeros([2048]); // dropped without dispose
    })();
    await settle();
    expect(leakedCount() - c0).toBe(8);
    expect(T.memory().numTensors - before).toBe(8); // their bytes still count (never freed by GC)
  });
});
