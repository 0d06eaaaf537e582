/**
 * HopeLM and HopeSession free what they create: `memory().numTensors` is flat across repeated
 * training steps, evaluations, decoder feeds and session calls (CMS firing inside the sequences).
 */
import { memory } from '@nl/tensor';
import { describe, expect, it } from 'vitest';
import { HopeSession } from '../src/session/session.js';
import { ids2d, lcgIds, tinyHope } from './hope-helpers.js';

const levels = [
  { chunkSize: 4, lr: 0.1 },
  { chunkSize: 8, lr: 0.1 },
];

/** numTensors after each of `n` runs of `fn` (the first run warms caches up). */
function counts(fn: () => void, n = 4): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    fn();
    out.push(memory().numTensors);
  }
  return out.slice(1);
}

describe('HopeLM / HopeSession memory', () => {
  it('training, evaluation and decoding leave no tensors behind', () => {
    const m = tinyHope({ cmsLevels: levels, selfModImpl: 'chunked' });
    const batch = ids2d([lcgIds(11, 16, 1), lcgIds(11, 16, 2)]);
    const train = counts(() => {
      m.zeroGrad();
      m.lossAndBackward(batch);
    });
    expect(new Set(train).size, `train ${train}`).toBe(1);
    const ev = counts(() => m.evalLoss(batch));
    expect(new Set(ev).size, `eval ${ev}`).toBe(1);
    const dec = m.decoder();
    const d = counts(() => dec.feed(Int32Array.from([1, 2, 3])));
    expect(new Set(d).size, `decode ${d}`).toBe(1);
    dec.dispose();
  });

  it('session feed, loss, generate, snapshot/rollback leave no tensors behind', () => {
    const s = new HopeSession(tinyHope({ cmsLevels: levels, vocabSize: 256 }));
    s.feed('warm up');
    const c = counts(() => {
      s.feed('some more text');
      s.loss('probe');
      s.generate({ maxTokens: 3, temperature: 0 });
      const snap = s.snapshot();
      s.feed('x');
      s.rollback(snap);
      snap.dispose();
    });
    expect(new Set(c).size, `session ${c}`).toBe(1);
  });
});
