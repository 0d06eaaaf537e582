// The README's first example, run as written (loss goes down, memory stays flat).
import { expect, it } from 'vitest';
import { randn, manualSeed, tidy, noGrad, memory } from '../src/index.js';

it('README example trains and keeps memory flat', () => {
  manualSeed(0);
  const w = randn([4, 3], { requiresGrad: true }); // [in, out]
  const x = randn([8, 4]); // [batch, in]
  const losses: number[] = [];
  const mem: number[] = [];
  for (let step = 0; step < 100; step++) {
    const loss = tidy(() => {
      const l = x.matmul(w).tanh().sub(0.5).square().mean(); // []
      l.backward(); // accumulates w.grad: [4, 3]
      return l.item();
    });
    noGrad(() => {
      const v = w.view; // live Float32Array of w (ParamLike)
      const g = w.gradView!;
      for (let i = 0; i < v.length; i++) v[i] -= 0.5 * g[i];
      g.fill(0);
    });
    losses.push(loss);
    mem.push(memory().numTensors);
  }
  expect(losses[99]).toBeLessThan(losses[0] * 0.5);
  expect(new Set(mem.slice(1)).size).toBe(1);
  w.dispose();
  x.dispose();
});
