// The MQAR family end to end on a tiny budget: every model runs at each width, one row per
// (width, model, seed, held-out set) with accuracies in [0, 1]; the same seed gives the same
// numbers when a model runs alone; the length sweep's x is the sequence length; 'hope-vs' runs
// when named; bad budgets are named.
import { describe, expect, it } from 'vitest';
import { MQAR_QUICK, runMqarFamily } from '../src/tasks/mqar.js';

describe('MQAR family', () => {
  it('sweeps pairs and length at two widths for every model, fixed by the seed', () => {
    const budget = { ...MQAR_QUICK, steps: 2, batch: 2, widths: [32, 48], evalSequences: 4 };
    const opts = { quick: true, seeds: [3], log: () => {} };
    const a = runMqarFamily(opts, budget);
    const names = ['transformer', 'deltanet', 'titans', 'hope', 'hope-live'];
    // per width and model: 1 pair count + 2 gaps
    expect(a.rows).toHaveLength(2 * 5 * 3);
    expect(a.rows.filter((r) => r.extra!.width === 32).map((r) => r.model)).toEqual(
      names.flatMap((n) => [n, n, n]),
    );
    expect(new Set(a.rows.map((r) => r.task))).toEqual(
      new Set(['pairs (d 32)', 'pairs (d 48)', 'length, 2 pairs (d 32)', 'length, 2 pairs (d 48)']),
    );
    for (const r of a.rows) {
      expect(r.value).toBeGreaterThanOrEqual(0);
      expect(r.value).toBeLessThanOrEqual(1);
      expect(Number.isFinite(r.extra!.finalLoss as number)).toBe(true);
      // length rows: x = 4·pairs + gap = the scored sequences' length
      if (r.xLabel === 'length') expect(r.x).toBe(r.extra!.seqLen);
    }
    const b = runMqarFamily({ ...opts, models: ['deltanet'] }, budget);
    const aDelta = a.rows.filter((r) => r.model === 'deltanet');
    expect(b.rows.map((r) => r.value)).toEqual(aDelta.map((r) => r.value));
    expect(b.rows.map((r) => r.extra!.finalLoss)).toEqual(aDelta.map((r) => r.extra!.finalLoss));
  }, 300_000);

  it("runs 'hope-vs' only when named in models", () => {
    const budget = { ...MQAR_QUICK, steps: 2, batch: 2, evalSequences: 4 };
    const r = runMqarFamily({ quick: true, seeds: [0], models: ['hope', 'hope-vs'], log: () => {} }, budget);
    expect([...new Set(r.rows.map((row) => row.model))]).toEqual(['hope', 'hope-vs']);
    for (const row of r.rows) expect(Number.isFinite(row.extra!.finalLoss as number)).toBe(true);
  }, 300_000);

  it('names a bad alphabet', () => {
    expect(() =>
      runMqarFamily({ quick: true, seeds: [0], log: () => {} }, { ...MQAR_QUICK, alphabet: 65 }),
    ).toThrow(/alphabet must be in \[1, 64\], got 65/);
  });
});
