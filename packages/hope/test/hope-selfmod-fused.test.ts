/**
 * HopeLM with selfModImpl 'fused' (SelfModifyingTitans as one native op per call) against the
 * token loop, float64, same seed: the segmented online scheme (state gradients across segment
 * cuts, CMS firing) gives the loop's loss and every parameter's gradient, and the streaming
 * decoder gives the teacher-forced rows for any pieces.
 */
import { describe, expect, it } from 'vitest';
import type { HopeDecoder } from '../src/models/hope-decoder.js';
import { gradsOf, ids2d, lcgIds, logitsOf, maxAbsDiff, tinyHope } from './hope-helpers.js';

const batch = ids2d([lcgIds(13, 16, 31), lcgIds(13, 16, 32)]); // [2, 12 + 1]
const firing = [
  { chunkSize: 4, lr: 1e-2 },
  { chunkSize: 6, lr: 1e-2 },
];

describe("HopeLM selfModImpl 'fused' == 'loop' (float64)", () => {
  it('segmented online scheme: loss and every gradient', () => {
    const [loop, fused] = (['loop', 'fused'] as const).map((impl) =>
      tinyHope({ cmsLevels: firing, selfModImpl: impl }),
    );
    const l1 = loop!.lossAndBackward(batch);
    const l2 = fused!.lossAndBackward(batch);
    expect(Math.abs(l1 - l2)).toBeLessThan(1e-11);
    const g1 = gradsOf(loop!);
    const g2 = gradsOf(fused!);
    expect(g2.size).toBe(g1.size);
    for (const [n, a] of g1) expect(maxAbsDiff(a, g2.get(n)!), n).toBeLessThan(1e-9);
  });

  it('streaming decoder rows == teacher-forced rows, any pieces', () => {
    const m = tinyHope({ selfModImpl: 'fused' });
    const seq = lcgIds(15, 16, 7);
    const ref = logitsOf(m, ids2d([seq]));
    const loopRef = logitsOf(tinyHope({ selfModImpl: 'loop' }), ids2d([seq]));
    expect(maxAbsDiff(ref, loopRef)).toBeLessThan(1e-10);
    for (const pieces of [
      [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
      [3, 5, 7],
    ]) {
      const dec = m.decoder() as HopeDecoder;
      const got: number[] = [];
      let at = 0;
      for (const n of pieces) {
        const y = dec.step(Int32Array.from(seq.slice(at, at + n)));
        got.push(...y.dataSync());
        y.dispose();
        at += n;
      }
      expect(maxAbsDiff(ref, got)).toBeLessThan(1e-10);
      dec.dispose();
    }
  });
});
