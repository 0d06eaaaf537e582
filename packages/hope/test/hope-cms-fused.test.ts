/**
 * HopeLM with cmsImpl 'fused' (the CMS as native ops: memory.cms / memory.cmsObserve) against the
 * tensor-op loop, same seed: the segmented online scheme with CMS levels firing gives the loop's
 * loss, every parameter gradient and the CMS fast state — in float64 to rounding, and for the
 * hope-tiny preset (float32) within float32 tolerance.
 */
import { describe, expect, it } from 'vitest';
import { memory } from '@nl/tensor';
import { HopeSession } from '../src/session/session.js';
import { HopeLM } from '../src/models/hope.js';
import { hopePreset } from '../src/models/hope-presets.js';
import { resolveHopeConfig } from '../src/models/hope-config.js';
import { gradsOf, ids2d, lcgIds, maxAbsDiff, tinyHope } from './hope-helpers.js';

const firing = [
  { chunkSize: 3, lr: 1e-1 },
  { chunkSize: 4, lr: 1e-1 },
];

/** The CMS Δ of every layer and level, flattened. */
function cmsDeltas(m: HopeLM): number[] {
  return m.blocks.flatMap((b) =>
    b.cms.chunkSizes.flatMap((_, i) => [...b.cms.delta(i).w1.dataSync(), ...b.cms.delta(i).w2.dataSync()]),
  );
}

describe("HopeLM cmsImpl 'fused' == 'loop'", () => {
  it('float64: segmented online scheme, loss, every gradient and the CMS state', () => {
    const batch = ids2d([lcgIds(13, 16, 41), lcgIds(13, 16, 42)]); // [2, 12 + 1]
    const [loop, fused] = (['loop', 'fused'] as const).map((impl) =>
      tinyHope({ cmsLevels: firing, cmsImpl: impl }),
    );
    const l1 = loop!.lossAndBackward(batch);
    const l2 = fused!.lossAndBackward(batch);
    expect(Math.abs(l1 - l2)).toBeLessThan(1e-11);
    const g1 = gradsOf(loop!);
    const g2 = gradsOf(fused!);
    expect(g2.size).toBe(g1.size);
    for (const [n, a] of g1) expect(maxAbsDiff(a, g2.get(n)!), n).toBeLessThan(1e-9);
    // the fast state after a teacher-forced pass that keeps it (HopeLM resets it after a step)
    const seq = ids2d([lcgIds(11, 16, 43)]);
    for (const m of [loop!, fused!]) {
      m.resetFast();
      m.step(seq, { probes: true }).sum().backward();
      m.observe();
    }
    const d1 = cmsDeltas(loop!);
    expect(maxAbsDiff(d1, new Array<number>(d1.length).fill(0))).toBeGreaterThan(0);
    expect(maxAbsDiff(d1, cmsDeltas(fused!))).toBeLessThan(1e-12);
  });

  it('config: cmsImpl defaults to loop, hope-tiny uses fused, bad values are named', () => {
    const base = { vocabSize: 16, dim: 8, layers: 1, heads: 2 };
    expect(resolveHopeConfig(base).cmsImpl).toBe('loop');
    expect(resolveHopeConfig(hopePreset('hope-tiny', { vocabSize: 256 })).cmsImpl).toBe('fused');
    expect(new HopeLM({ ...base, cmsImpl: 'fused' }).blocks[0]!.cms.impl).toBe('fused');
    expect(() => resolveHopeConfig({ ...base, cmsImpl: 'gpu' as 'loop' })).toThrow(
      /HopeLM config: cmsImpl must be 'loop' or 'fused', got "gpu"/,
    );
  });

  it('hope-tiny (float32): one training step, loss and gradients within float32 tolerance', () => {
    const [loop, fused] = (['loop', 'fused'] as const).map(
      (impl) => new HopeLM(hopePreset('hope-tiny', { vocabSize: 256, seed: 5, cmsImpl: impl })),
    );
    const T = 70; // hope-tiny's 32-token level fires twice
    const batch = ids2d([lcgIds(T + 1, 256, 1), lcgIds(T + 1, 256, 2)]);
    const l1 = loop!.lossAndBackward(batch);
    const l2 = fused!.lossAndBackward(batch);
    expect(Math.abs(l1 - l2)).toBeLessThan(1e-5 * Math.abs(l1));
    const g1 = gradsOf(loop!);
    const g2 = gradsOf(fused!);
    for (const [n, a] of g1) {
      const scale = Math.max(...a.map(Math.abs));
      expect(maxAbsDiff(a, g2.get(n)!), n).toBeLessThan(5e-5 * scale + 1e-9); // measured ≤ 2.2e-6 · scale
    }
  });

  it('training, evaluation, decoding and a session leave no tensors behind', () => {
    const counts = (fn: () => void): number[] => [0, 1, 2, 3].map(() => (fn(), memory().numTensors)).slice(1); // the first run warms caches up
    const m = tinyHope({ cmsLevels: firing, cmsImpl: 'fused' });
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
    const s = new HopeSession(tinyHope({ cmsLevels: firing, vocabSize: 256, cmsImpl: 'fused' }));
    s.feed('warm up');
    const c = counts(() => {
      s.feed('some more text');
      s.loss('probe');
      const snap = s.snapshot();
      s.feed('x');
      s.rollback(snap);
      snap.dispose();
    });
    expect(new Set(c).size, `session ${c}`).toBe(1);
  });
});
