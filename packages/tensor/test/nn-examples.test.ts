// The "## nn" and "## io" examples of packages/tensor/README.md, run as written (the import
// path and the checkpoint's folder differ), with checks that they do what the README says.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { io, manualSeed, nn, noGrad, tensor, tidy } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'nl-readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('README nn example: a small classifier trains with manual SGD', () => {
  manualSeed(0);
  const model = new nn.Sequential(
    new nn.Linear(4, 16),
    new nn.RMSNorm(16),
    new nn.MLP(16, 32, { activation: 'gelu' }),
    new nn.Linear(16, 3),
  );
  const x = tensor([
    [0.1, 0.2, 0.3, 0.4],
    [1, 0, -1, 0.5],
  ]); // [N=2, 4]
  const y = tensor([2, 0], { dtype: 'int32' }); // [N] class ids

  const losses: number[] = [];
  for (let step = 0; step < 50; step++) {
    const loss = tidy(() => {
      model.zeroGrad();
      const loss = nn.functional.crossEntropy(model.forward(x), y);
      loss.backward();
      noGrad(() => {
        for (const p of model.parameters()) {
          const g = p.gradView!;
          p.view.forEach((v, i, a) => (a[i] = v - 0.1 * g[i]));
        }
      });
      return loss.item();
    });
    losses.push(loss);
  }
  expect(losses[49]).toBeLessThan(losses[0] / 4);
  expect(model.namedParameters().map(([n]) => n)[0]).toBe('0.weight');
});

it('README io example: checkpoint a module and load it back', () => {
  const model = new nn.MLP(8, 32);
  io.save(join(dir, 'model.safetensors'), model.stateDict(), { step: '100' });

  const restored = new nn.MLP(8, 32);
  const { tensors, metadata } = io.loadWithMetadata(join(dir, 'model.safetensors'));
  restored.loadStateDict(tensors); // strict: names a missing/unexpected key or a shape mismatch
  const bytes = io.save(null, { w: model.fc1.weight }); // no path: returns the file's bytes

  expect(metadata.step).toBe('100');
  expect(restored.fc2.bias!.dataSync()).toEqual(model.fc2.bias!.dataSync());
  expect(io.load(bytes).w.shape).toEqual([32, 8]);
});
