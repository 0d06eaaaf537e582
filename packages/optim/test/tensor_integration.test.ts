// @nl/tensor's Tensor is a ParamLike structurally: `new AdamW(model.parameters())` / Muon train a
// real nn model end to end (loss falls), updating the tensors in place through their live views.
import { describe, expect, it } from 'vitest';
import { manualSeed, nn, tensor, tidy } from '@nl/tensor';
import { AdamW, Muon, type Optimizer, type ParamLike } from '../src/index.js';

function train(make: (p: ParamLike[]) => Optimizer<object>): { first: number; last: number } {
  manualSeed(0);
  const model = new nn.Sequential(new nn.Linear(4, 16), new nn.Linear(16, 3));
  const x = tensor([
    [0.1, 0.2, 0.3, 0.4],
    [1, 0, -1, 0.5],
    [-0.3, 0.8, 0.1, -1],
  ]);
  const y = tensor([2, 0, 1], { dtype: 'int32' });
  const opt = make(model.parameters());
  const losses: number[] = [];
  for (let step = 0; step < 60; step++) {
    losses.push(
      tidy(() => {
        model.zeroGrad();
        const loss = nn.functional.crossEntropy(model.forward(x), y);
        loss.backward();
        opt.step();
        return loss.item();
      }),
    );
  }
  return { first: losses[0]!, last: losses[losses.length - 1]! };
}

describe('@nl/tensor parameters', () => {
  it('AdamW trains an nn.Sequential through ParamLike', () => {
    const { first, last } = train((p) => new AdamW(p, { lr: 0.05 }) as never);
    expect(last).toBeLessThan(0.2 * first);
  });
  it('Muon (2-D weights) + AdamW (biases) trains the same model', () => {
    const { first, last } = train((p) => new Muon(p, { lr: 0.05, adamLr: 0.05 }) as never);
    expect(last).toBeLessThan(0.2 * first);
  });
});
