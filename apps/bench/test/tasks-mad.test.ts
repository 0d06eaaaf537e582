// The MAD family end to end on a tiny budget: every task runs for all four models, each row is an
// accuracy in [0, 1] over a held-out set, the notes quote the NL paper's numbers, and a seed fixes
// the numbers. Also the packing of aligned MAD examples (targets kept where the generator put them).
import { describe, expect, it } from 'vitest';
import { MAD_IGNORE, Rng, madSelectiveCopying } from '@nl/hope';
import {
  MAD_SPECS,
  MAD_TASKS,
  contextGuessAccuracy,
  madDraw,
  packMad,
  runMadFamily,
  type MadBudget,
  type MadTaskSpec,
} from '../src/tasks/mad.js';
import { TASK_FAMILIES } from '../src/tasks/run-tasks.js';

const TINY: MadBudget = { tasks: MAD_TASKS, steps: 1, batch: 2, lr: 1e-3, evalSequences: 4 };

describe('packMad', () => {
  it('keeps aligned targets in place and refuses ragged examples', () => {
    const rng = Rng.fromSeed(1);
    const a = madSelectiveCopying(rng);
    const b = madSelectiveCopying(rng);
    const batch = packMad([a, b]);
    expect([batch.n, batch.len]).toEqual([2, 32]);
    expect(Array.from(batch.inputs.subarray(32))).toEqual(Array.from(b.inputs));
    expect(Array.from(batch.targets.subarray(0, 32))).toEqual(Array.from(a.targets));
    expect(batch.targets.filter((t) => t !== MAD_IGNORE).length).toBe(16);
    const short = { inputs: a.inputs.subarray(1), targets: a.targets.subarray(1) };
    expect(() => packMad([a, short])).toThrow(/example 1 has length 31/);
    expect(() => packMad([])).toThrow(/no examples/);
  });

  it('every task draws scored tokens, one length per task, ids < 256', () => {
    for (const task of MAD_TASKS) {
      const spec = MAD_SPECS[task];
      for (const gen of [spec.train, spec.evaluate]) {
        const batch = madDraw(gen)(Rng.fromSeed(3), 6);
        expect(batch.targets.some((t) => t >= 0)).toBe(true);
        expect(batch.inputs.every((t) => t >= 0 && t < 256)).toBe(true);
        expect(batch.targets.every((t) => t === MAD_IGNORE || (t >= 0 && t < 256))).toBe(true);
      }
    }
  });
});

describe('contextGuessAccuracy', () => {
  it('averages 1 / (answer ids seen so far) over scored positions, 1 / ids when none is seen', () => {
    // answers from [0, 4): position 1 has seen {1} (right: 1), position 3 has seen {1, 2} and
    // wants 3 (wrong: 0), position 4 has seen {1, 2} and wants 2 (1/2); position 0 wants 0 having
    // seen nothing but id 9 (outside the answers): 1/4
    const ex = {
      inputs: Int32Array.of(9, 1, 2, 2, 9),
      targets: Int32Array.of(0, 1, MAD_IGNORE, 3, 2),
    };
    const spec: MadTaskSpec = { train: () => ex, evaluate: () => ex, chance: '', sizes: '', answers: [0, 4] };
    expect(contextGuessAccuracy(spec, Rng.fromSeed(0), 3)).toBeCloseTo((1 / 4 + 1 + 0 + 1 / 2) / 4, 12);
    // memorization never shows a value: exactly chance among the 127 values
    expect(contextGuessAccuracy(MAD_SPECS.memorization, Rng.fromSeed(0), 8)).toBeCloseTo(1 / 127, 12);
  });
});

describe('MAD family', () => {
  it('is registered in the suite', () => {
    expect(TASK_FAMILIES.some((f) => f.name === 'mad')).toBe(true);
  });

  it('runs every task for all four models on a tiny budget', () => {
    const report = runMadFamily({ quick: true, seeds: [0], log: () => {} }, TINY);
    expect(report.rows.length).toBe(MAD_TASKS.length * 4);
    expect(new Set(report.rows.map((r) => r.model))).toEqual(
      new Set(['transformer', 'deltanet', 'titans', 'hope']),
    );
    expect(new Set(report.rows.map((r) => r.task))).toEqual(new Set(MAD_TASKS));
    for (const r of report.rows) {
      expect(r.family).toBe('mad');
      expect(r.metric).toBe('accuracy');
      expect(r.value).toBeGreaterThanOrEqual(0);
      expect(r.value).toBeLessThanOrEqual(1);
      expect(r.params).toBeGreaterThan(0);
      expect(r.steps).toBe(1);
      expect(r.tokens).toBe(2 * (r.extra!.seqLen as number));
    }
    expect(report.protocol).toMatch(/chance 1\/8/);
    expect(report.notes!.join(' ')).toMatch(/context guesser .* memorization 0\.8 /);
    expect(report.notes!.join(' ')).toMatch(/NL paper Hope 99\.7 vs Transformer 96\.2/);
    expect(report.notes!.join(' ')).toMatch(/compression: NL paper Hope 51\.2 vs Transformer 49\.4/);
  }, 300_000);

  it('a seed fixes the numbers', () => {
    const budget: MadBudget = { ...TINY, tasks: ['in-context-recall', 'memorization'], steps: 2 };
    const run = (seed: number) =>
      runMadFamily(
        { quick: true, seeds: [seed], models: ['transformer', 'deltanet'], log: () => {} },
        budget,
      ).rows.map((r) => [r.value, r.extra!.finalLoss]);
    const a = run(4);
    expect(run(4)).toEqual(a);
    expect(run(5)).not.toEqual(a);
  }, 120_000);
});
