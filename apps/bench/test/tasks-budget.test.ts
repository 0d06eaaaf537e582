// Choosing a family's budget: --quick, a named budget or the default, refused by name otherwise;
// the long budgets of MAD, formal, S-NIAH and continual run their models at the width they name, parameter-matched.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { countParameters, preset } from '@nl/hope';
import { ablationBudget } from '../src/tasks/ablation.js';
import { pickBudget } from '../src/tasks/budget.js';
import { mqarBudget } from '../src/tasks/mqar.js';
import {
  FORMAL_FULL,
  FORMAL_LONG,
  FORMAL_QUICK,
  formalBudget,
  runFormalFamily,
} from '../src/tasks/formal.js';
import { MAD_FULL, MAD_LONG, MAD_QUICK, madBudget, runMadFamily } from '../src/tasks/mad.js';
import { PARAM_MATCH_TOLERANCE } from '../src/tasks/models.js';
import {
  CONTINUAL_FULL,
  CONTINUAL_LONG,
  CONTINUAL_QUICK,
  continualBudget,
  runContinualFamily,
} from '../src/tasks/continual.js';
import { NIAH_FULL, NIAH_LONG, NIAH_QUICK, niahBudget, runNiahFamily } from '../src/tasks/niah.js';
import { TASK_FAMILIES } from '../src/tasks/run-tasks.js';

describe('pickBudget', () => {
  const budgets = { quick: 'q', full: 'f', named: { long: 'l', wide: 'w' } };
  it('picks quick, the default or a named budget', () => {
    expect(pickBudget('fam', budgets, { quick: true })).toBe('q');
    expect(pickBudget('fam', budgets, { quick: false })).toBe('f');
    expect(pickBudget('fam', budgets, { quick: false, budget: 'wide' })).toBe('w');
  });
  it('refuses an unknown name (listing the known ones) and --quick with --budget', () => {
    expect(() => pickBudget('fam', budgets, { quick: false, budget: 'huge' })).toThrow(
      "fam has no budget 'huge' (budgets: long, wide)",
    );
    // an Object.prototype key is not a budget
    expect(() => pickBudget('fam', budgets, { quick: false, budget: 'toString' })).toThrow(/no budget/);
    expect(() => pickBudget('fam', budgets, { quick: true, budget: 'long' })).toThrow(
      'fam: --quick and --budget long exclude each other',
    );
  });
});

describe('the long budgets of MAD, formal, S-NIAH and continual', () => {
  it('are chosen by --budget long and listed by their families', () => {
    expect(formalBudget({ quick: false, budget: 'long' })).toBe(FORMAL_LONG);
    expect(formalBudget({ quick: false })).toBe(FORMAL_FULL);
    expect(formalBudget({ quick: true })).toBe(FORMAL_QUICK);
    expect(madBudget({ quick: false, budget: 'long' })).toBe(MAD_LONG);
    expect(madBudget({ quick: false })).toBe(MAD_FULL);
    expect(madBudget({ quick: true })).toBe(MAD_QUICK);
    expect(niahBudget({ quick: false, budget: 'long' })).toBe(NIAH_LONG);
    expect(niahBudget({ quick: false })).toBe(NIAH_FULL);
    expect(niahBudget({ quick: true })).toBe(NIAH_QUICK);
    expect(Math.max(...NIAH_LONG.evalLengths)).toBe(2048);
    expect(continualBudget({ quick: false, budget: 'long' })).toBe(CONTINUAL_LONG);
    expect(continualBudget({ quick: false })).toBe(CONTINUAL_FULL);
    expect(continualBudget({ quick: true })).toBe(CONTINUAL_QUICK);
    for (const name of ['mad', 'formal', 'niah', 'continual'])
      expect(TASK_FAMILIES.find((f) => f.name === name)!.budgets).toEqual(['long']);
    expect(FORMAL_LONG.steps).toBeGreaterThan(FORMAL_FULL.steps);
    expect(MAD_LONG.steps * MAD_LONG.batch).toBeGreaterThan(MAD_FULL.steps * MAD_FULL.batch);
  });

  it("train every model at the budget's width, matched to Transformer++ of that width", () => {
    const log = () => {};
    const target = countParameters(preset('transformer', 'tiny', { vocabSize: 256, dim: 32 }));
    const formal = runFormalFamily(
      { quick: false, seeds: [0], log },
      { ...FORMAL_QUICK, name: 'test', tasks: ['parity'], steps: 1, evalSequences: 2, dim: 32 },
    );
    const mad = runMadFamily(
      { quick: false, seeds: [0], log },
      { ...MAD_QUICK, name: 'test', tasks: ['memorization'], steps: 1, evalSequences: 2, dim: 32 },
    );
    const niah = runNiahFamily(
      { quick: false, seeds: [0], log },
      { ...NIAH_QUICK, name: 'test', stages: [{ length: 128, steps: 1 }], evalLengths: [128], dim: 32 },
    );
    const continual = runContinualFamily(
      { quick: false, seeds: [0], log },
      { ...CONTINUAL_QUICK, name: 'test', seqLen: 16, passageBytes: 40, dim: 32 },
    );
    for (const report of [formal, mad, niah, continual]) {
      expect(report.protocol).toMatch(/Budget 'test': models at width d 32, 4 layers/);
      // continual's test-time rows add 'hope (CMS frozen)', the same trained hope
      expect(new Set(report.rows.map((r) => r.model.replace(' (CMS frozen)', '')))).toEqual(
        new Set(['transformer', 'deltanet', 'titans', 'hope']),
      );
      for (const r of report.rows)
        expect(Math.abs(r.params - target) / target).toBeLessThanOrEqual(PARAM_MATCH_TOLERANCE);
    }
    // the transformer is exactly the reference; d 32 is far from the default width's count
    expect(formal.rows.find((r) => r.model === 'transformer')!.params).toBe(target);
    expect(
      runFormalFamily(
        { quick: true, seeds: [0], models: ['transformer'], log },
        { ...FORMAL_QUICK, tasks: ['parity'], steps: 1, evalSequences: 2 },
      ).rows[0]!.params,
    ).toBeGreaterThan(2 * target);
  }, 300_000);
});

describe('the committed reports', () => {
  // a report whose budget is none of its family's can no longer be merged into (--merge compares
  // budgets), and its protocol would describe a budget the code does not have
  const budgetsOf: Record<string, (o: { quick: boolean; budget?: string }) => unknown> = {
    mqar: mqarBudget,
    mad: madBudget,
    formal: formalBudget,
    ablation: ablationBudget,
    niah: niahBudget,
    continual: continualBudget,
  };
  it.each(TASK_FAMILIES.map((f) => f.name))(
    'results/tasks/%s.json ran its default or long budget',
    (name) => {
      const path = new URL(`../../../results/tasks/${name}.json`, import.meta.url);
      const stored = (JSON.parse(readFileSync(path, 'utf8')) as { budget: unknown }).budget;
      const budgets = [
        budgetsOf[name]!({ quick: false }),
        budgetsOf[name]!({ quick: false, budget: 'long' }),
      ];
      expect(budgets.map((b) => JSON.stringify(b))).toContain(JSON.stringify(stored));
    },
  );
});
