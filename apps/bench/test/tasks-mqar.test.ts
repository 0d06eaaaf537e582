// The MQAR family end to end on a tiny budget: every model runs at each width, one row per
// (width, model, seed, held-out set) with accuracies in [0, 1]; the same seed gives the same
// numbers when a model runs alone; the length sweep's x is the sequence length; 'hope-vs' runs
// when named; bad budgets are named. `--budget long`: the suite hands the name to the family, which
// picks MQAR_LONG (a shrunk copy runs end to end), and refuses it elsewhere or with --quick;
// `--widths` narrows the widths a run trains (the report keeps the budget's, and says so), is
// refused for a width the budget lacks and for families without a width sweep.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  MQAR_FULL,
  MQAR_LONG,
  MQAR_QUICK,
  mqarBudget,
  mqarFamily,
  mqarNotes,
  mqarWidths,
  runMqarFamily,
} from '../src/tasks/mqar.js';
import { runTaskSuite, TASK_FAMILIES } from '../src/tasks/run-tasks.js';
import type { TaskRow, TaskRunOptions } from '../src/tasks/types.js';

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

  it("'long' budget: picked by name, runs end to end shrunk, refused where it does not exist", () => {
    expect(mqarBudget({ quick: true })).toBe(MQAR_QUICK);
    expect(mqarBudget({ quick: false })).toBe(MQAR_FULL);
    expect(mqarBudget({ quick: false, budget: 'long' })).toBe(MQAR_LONG);
    expect(MQAR_LONG).toMatchObject({ batch: 16, lr: 2e-3, alphabet: 16, pairs: [2, 4, 8] });
    expect(MQAR_LONG.steps).toBeGreaterThanOrEqual(1500);
    expect(MQAR_LONG.gaps[0]).toBe(0);
    expect(() => mqarBudget({ quick: false, budget: 'huge' })).toThrow(/MQAR has no budget 'huge'/);
    expect(() => mqarBudget({ quick: true, budget: 'long' })).toThrow(/exclude each other/);

    expect(MQAR_LONG.widths).toEqual([32, 64]);
    const tiny = { ...MQAR_LONG, steps: 2, batch: 2, evalSequences: 4 };
    const r = runMqarFamily(
      { quick: false, budget: 'long', seeds: [0], models: ['transformer'], widths: [32], log: () => {} },
      tiny,
    );
    expect(r.rows.every((row) => row.extra!.width === 32)).toBe(true);
    // 3 pair counts at gap 0, then 3 gaps at 4 pairs: x = 4·4 + gap
    expect(r.rows.map((row) => [row.xLabel, row.x])).toEqual([
      ['pairs', 2],
      ['pairs', 4],
      ['pairs', 8],
      ['length', 16],
      ['length', 24],
      ['length', 32],
    ]);
    expect(r.protocol).toMatch(/^Budget 'long' \(2 steps\)/);
    // the report describes the budget (both widths) and says which this run trained
    expect(r.title).toMatch(/at widths 32, 64$/);
    expect(r.budget).toEqual(tiny);
    expect(r.notes![0]).toBe("This run trained width(s) 32 only (--widths); the budget's widths are 32, 64.");
    expect(mqarWidths(tiny, undefined)).toBe(tiny);
    expect(mqarWidths(tiny, [64]).widths).toEqual([64]);
    expect(() => mqarWidths(tiny, [48, 64])).toThrow(/has widths 32, 64; --widths named 48/);
    expect(() => mqarWidths(tiny, [])).toThrow(/--widths named none/);

    // the suite passes the name through to the family, and refuses families without it
    const seen: TaskRunOptions[] = [];
    const mqar = TASK_FAMILIES.findIndex((f) => f.name === 'mqar');
    const real = TASK_FAMILIES[mqar]!;
    TASK_FAMILIES[mqar] = { ...real, run: (o) => (seen.push(o), runMqarFamily(o, tiny)) };
    try {
      const dir = mkdtempSync(join(tmpdir(), 'nl-mqar-long-'));
      const opts = {
        families: ['mqar'],
        quick: false,
        seeds: [0],
        models: ['deltanet'],
        outDir: dir,
        log: () => {},
      };
      runTaskSuite({ ...opts, budget: 'long', widths: [64] });
      expect(seen.map((o) => [o.budget, o.widths])).toEqual([['long', [64]]]);
      expect(() => runTaskSuite({ ...opts, families: ['mqar', 'mad'], widths: [64] })).toThrow(
        /--widths: mad has no width sweep \(families with one: mqar\)/,
      );
      expect(() => runTaskSuite({ ...opts, families: ['mqar', 'mad'], budget: 'huge' })).toThrow(
        /budget 'huge' is not a budget of mqar, mad/,
      );
      expect(() => runTaskSuite({ ...opts, quick: true, budget: 'long' })).toThrow(/exclude each other/);
      expect(seen).toHaveLength(1);
    } finally {
      TASK_FAMILIES[mqar] = real;
    }
  }, 300_000);

  it('the notes count per width the runs that solved recall (≥ 80% at every pair count)', () => {
    const row = (
      model: string,
      seed: number,
      width: number,
      x: number,
      value: number,
      xLabel = 'pairs',
    ): TaskRow => ({
      family: 'mqar',
      task: `pairs (d ${width})`,
      model,
      params: 1,
      seed,
      metric: 'accuracy',
      value,
      x,
      xLabel,
      steps: 1,
      tokens: 1,
      seconds: 1,
      extra: { width },
    });
    const rows = [
      // a: seed 0 solves at d 64; seed 1 misses at 8 pairs; the length rows do not count
      ...[2, 4, 8].map((x) => row('a', 0, 64, x, 0.95)),
      ...[2, 4].map((x) => row('a', 1, 64, x, 0.9)),
      row('a', 1, 64, 8, 0.79),
      row('a', 1, 64, 24, 0.1, 'length'),
      ...[2, 4, 8].map((x) => row('b', 0, 32, x, 0.5)),
      ...[2, 4, 8].map((x) => row('b', 3, 32, x, 0.85)),
    ];
    const line = mqarNotes(rows, { steps: 1500, batch: 16 }).find((n) => n.startsWith('Runs that solved'));
    expect(line).toMatch(/per width: d 32: b 1\/2 \(seed 3\); d 64: a 1\/2 \(seed 0\):/);
    // and the family hands the same notes to a merge
    expect(mqarFamily.notes!(rows, MQAR_LONG)).toEqual(mqarNotes(rows, MQAR_LONG));
  });

  it('names a bad alphabet', () => {
    expect(() =>
      runMqarFamily({ quick: true, seeds: [0], log: () => {} }, { ...MQAR_QUICK, alphabet: 65 }),
    ).toThrow(/alphabet must be in \[1, 64\], got 65/);
  });
});
