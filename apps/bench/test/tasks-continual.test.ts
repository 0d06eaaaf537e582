// The continual family: domains (three SOTU eras in order, then Moby-Dick; held-out documents
// apart), forgetting by hand, the repeat reads against independent references (a plain row
// log-softmax; a first read through the decoder or a CMS-frozen session equals the model's
// teacher-forced forward cross-entropy), and the family end to end on a tiny budget, every model,
// values in range, fixed by the seed.
import { describe, expect, it } from 'vitest';
import { buildModel, byteTokenizer, loadMobyDick, type LanguageModel } from '@nl/hope';
import { crossEntropy, fromTypedArray, manualSeed, narrow, noGrad, tidy } from '@nl/tensor';
import { comparisonModels } from '../src/tasks/models.js';
import { continualDomains, evenWindows, SOTU_ERAS } from '../src/tasks/continual-data.js';
import { repeatGain, rowNats } from '../src/tasks/continual-repeat.js';
import { forgetting } from '../src/tasks/continual-stages.js';
import { runContinualFamily, type ContinualBudget } from '../src/tasks/continual.js';

/** Bits/byte of `passage` under `model.forward` (fresh state), positions 1.. scored: the reference. */
function forwardBpb(model: LanguageModel, passage: Int32Array): number {
  const p = passage.length;
  const nats = tidy(() =>
    noGrad(() => {
      const logits = model.forward(fromTypedArray(passage, [1, p])); // [1, P, V]
      const v = logits.shape[2]!;
      const rows = narrow(logits.reshape([p, v]), 0, 0, p - 1);
      return crossEntropy(rows, fromTypedArray(passage.slice(1), [p - 1])).item();
    }),
  );
  return nats / Math.LN2;
}

describe('continual domains', () => {
  it('three SOTU eras in order, then Moby-Dick; every 10th document held out', () => {
    const domains = continualDomains();
    expect(domains.map((d) => d.name)).toEqual([...SOTU_ERAS.map(([a, b]) => `SOTU ${a}-${b}`), 'Moby-Dick']);
    for (const d of domains) {
      expect(d.heldOut.length).toBeGreaterThan(10_000);
      expect(d.train.length).toBeGreaterThan(4 * d.heldOut.length);
    }
    // Moby-Dick's held-out side is sections 9, 19, ... (0-based): chapter 7 "The Chapel" is one
    const moby = loadMobyDick();
    const held = byteTokenizer.decode(domains[3]!.heldOut);
    expect(held.startsWith(moby[9]!.text.slice(0, 200))).toBe(true);
    expect(byteTokenizer.decode(domains[3]!.train).includes(moby[9]!.text.slice(0, 200))).toBe(false);
  });

  it('even windows start at both ends of the text', () => {
    const bytes = Uint8Array.from({ length: 50 }, (_, i) => i);
    expect(Array.from(evenWindows(bytes, 3, 4))).toEqual([0, 1, 2, 3, 23, 24, 25, 26, 46, 47, 48, 49]);
  });
});

describe('forgetting and the repeat reads', () => {
  it('forgetting is the mean rise since each domain’s own stage', () => {
    const bpb = [[3], [3.5, 2.5], [4, 3, 2]];
    expect(forgetting(bpb, 0)).toBeUndefined();
    expect(forgetting(bpb, 1)).toBeCloseTo(0.5, 12);
    expect(forgetting(bpb, 2)).toBeCloseTo((1 + 0.5) / 2, 12);
  });

  it('rowNats is −log softmax at the target', () => {
    const v = 4;
    const logits = Float32Array.of(0, 0, 0, 0, 1, 2, 3, 4);
    expect(rowNats(logits, v, [2, 3], [0])).toBeCloseTo(Math.log(4), 6);
    const z = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3) + Math.exp(4));
    expect(rowNats(logits, v, [2, 3], [1])).toBeCloseTo(z - 4, 6);
  });

  it.each(['deltanet', 'titans', 'hope'])(
    '%s: the first read equals the forward cross-entropy; the second differs',
    (name) => {
      const spec = comparisonModels(2, { overrides: { dim: 32, heads: 2 } }).find((m) => m.name === name)!;
      manualSeed(2);
      const model = buildModel(spec.config);
      try {
        const passage = byteTokenizer.encode('It is a way I have of driving off the spleen, and regulating.');
        const g = repeatGain(model, [passage], name === 'hope' ? 'session-cms-frozen' : 'decoder');
        expect(g.first).toBeCloseTo(forwardBpb(model, passage), 3);
        expect(Number.isFinite(g.second)).toBe(true);
        expect(g.second).not.toBe(g.first);
        expect(g.gain).toBeCloseTo(g.first - g.second, 12);
        if (name === 'hope') {
          // CMS learning changes the reads' scores only after a level boundary (the shortest chunk)
          const on = repeatGain(model, [passage], 'session');
          expect(on.first).toBeCloseTo(g.first, 2);
          expect(on.second).not.toBe(g.second);
        } else expect(() => repeatGain(model, [passage], 'session')).toThrow(/needs a Hope model/);
      } finally {
        model.dispose();
      }
    },
    120_000,
  );
});

describe('continual family', () => {
  it('runs every model on a tiny budget, fixed by the seed', () => {
    const budget: ContinualBudget = {
      stepsPerStage: 1,
      batch: 2,
      seqLen: 16,
      lr: 3e-3,
      evalWindows: 2,
      passagesPerDomain: 1,
      passageBytes: 40,
    };
    const opts = { quick: true, seeds: [4], log: () => {} };
    const a = runContinualFamily(opts, budget);
    const models = [...new Set(a.rows.map((r) => r.model))];
    expect(models).toEqual(['transformer', 'deltanet', 'titans', 'hope', 'hope (CMS frozen)']);
    for (const m of ['transformer', 'deltanet', 'titans', 'hope']) {
      const rows = a.rows.filter((r) => r.model === m);
      // bpb after stage k on domains 0..k: 1 + 2 + 3 + 4; forgetting at stages 2..4; 3 test-time rows
      expect(rows.filter((r) => r.metric === 'bpb' && r.task.startsWith('bpb:'))).toHaveLength(10);
      expect(rows.filter((r) => r.metric === 'forgetting').map((r) => r.x)).toEqual([2, 3, 4]);
      expect(rows.filter((r) => r.task.startsWith('test-time'))).toHaveLength(3);
    }
    for (const r of a.rows) {
      expect(Number.isFinite(r.value)).toBe(true);
      if (r.metric === 'bpb') {
        expect(r.value).toBeGreaterThan(0);
        expect(r.value).toBeLessThan(12); // a near-uniform byte model is at 8 bits
      } else expect(Math.abs(r.value)).toBeLessThan(8);
    }
    const b = runContinualFamily({ ...opts, models: ['hope'] }, budget);
    const hope = a.rows.filter((r) => r.model.startsWith('hope'));
    expect(b.rows.map((r) => r.value)).toEqual(hope.map((r) => r.value));
  }, 600_000);
});
