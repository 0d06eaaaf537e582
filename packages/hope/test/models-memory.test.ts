/**
 * Model lifetimes leave no tensors behind (issue 15, "Memory"): constructing and disposing each
 * tiny preset restores memory().numTensors exactly, `t.grad = null` frees the gradient, and an
 * oversized `layers` is refused before anything is built.
 */
import { memory } from '@nl/tensor';
import { describe, expect, it } from 'vitest';
import { buildModel, hopePreset, preset, type ModelConfigInput } from '../src/models/index.js';
import { ids2d, lcgIds } from './hope-helpers.js';

/** The tiny preset of `kind` ('hope' presets live in HOPE_PRESETS as 'hope-tiny'). */
const tiny = (kind: string, over: Record<string, unknown>): ModelConfigInput =>
  kind === 'hope'
    ? (hopePreset('hope-tiny', over) as unknown as ModelConfigInput)
    : preset(kind, 'tiny', over);

const TINY = [
  ['hope', 'tiny'],
  ['transformer', 'tiny'],
  ['titans', 'tiny'],
  ['deltanet', 'tiny'],
] as const;

describe('model construction and dispose', () => {
  for (const [kind, name] of TINY) {
    it(`${kind}-${name}: construct + dispose leaves numTensors unchanged`, () => {
      const before = memory().numTensors;
      const m = buildModel(tiny(kind, { seed: 1 }));
      m.dispose();
      expect(memory().numTensors - before).toBe(0);
    });
    it(`${kind}-${name}: a training step, zeroGrad and dispose leave numTensors unchanged`, () => {
      const before = memory().numTensors;
      const m = buildModel(tiny(kind, { seed: 1 }));
      const batch = ids2d([lcgIds(9, m.config.vocabSize, 1), lcgIds(9, m.config.vocabSize, 2)]);
      m.lossAndBackward(batch);
      for (const p of m.parameters()) p.grad = null;
      m.lossAndBackward(batch);
      m.dispose();
      batch.dispose();
      expect(memory().numTensors - before).toBe(0);
    });
  }
});

describe('config bounds', () => {
  it('layers: 1e6 is refused at once, naming the field', () => {
    for (const [kind] of TINY) {
      const t0 = Date.now();
      expect(() => buildModel(tiny(kind, { layers: 1e6 }))).toThrow(
        /layers must be at most 1024, got 1000000/,
      );
      expect(Date.now() - t0).toBeLessThan(1000);
    }
  });
});
