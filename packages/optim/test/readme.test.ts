// The README's plain-Float32Array example runs as written and does what it says.
import { expect, it } from 'vitest';
import { AdamW, paramFromArrays } from '../src/index.js';

it('README example: AdamW on plain Float32Arrays drives Σw² towards 0 in place', () => {
  const w = new Float32Array([0.5, -0.25, 1, 2]);
  const g = new Float32Array(4);
  const opt = new AdamW([paramFromArrays(w, g, [2, 2])], { lr: 0.1, weightDecay: 0 });
  for (let t = 0; t < 100; t++) {
    for (let i = 0; i < 4; i++) g[i] = 2 * w[i]!;
    opt.step();
  }
  for (const v of w) expect(Math.abs(v)).toBeLessThan(0.1);
});

it('README example: AdamW steps an nn.Linear on sim with no download; the clip norm is a device tensor', async () => {
  const { nn, tensor } = await import('@nl/tensor');
  const { enableSimDevice, simTransfers, resetSimTransfers } = await import('@nl/tensor/testing');
  const { clipGradNorm } = await import('../src/index.js');
  enableSimDevice();
  const model = new nn.Linear(4, 2).to('sim');
  const opt = new AdamW(model.parameters(), { lr: 1e-2 });
  const x = tensor([[1, 2, 3, 4]], { device: 'sim' });
  opt.zeroGrad();
  model.forward(x).square().sum().backward();
  const norm = clipGradNorm(model.parameters(), 1);
  resetSimTransfers();
  opt.step();
  expect(simTransfers().downloads).toBe(0);
  expect(norm.item()).toBeGreaterThan(0);
  expect(opt.state.get(model.parameters()[0]!)!.expAvg).toMatchObject({ device: 'sim' });
  norm.dispose();
});
