// The S-NIAH family: the curriculum draws each stage's length in order, the three variants mixed,
// only the answer digits scored; the held-out SOTU haystack is disjoint from the training one; the
// family runs every model end to end on a tiny budget, values in range, fixed by the seed.
import { describe, expect, it } from 'vitest';
import { Rng, byteTokenizer } from '@nl/hope';
import { curriculumDraw, niahDraw, sotuFillers } from '../src/tasks/niah-data.js';
import { runNiahFamily, type NiahBudget } from '../src/tasks/niah.js';

describe('S-NIAH draws', () => {
  it('the curriculum follows its stages, then stays at the last length', () => {
    const draw = curriculumDraw(
      [
        { length: 130, steps: 2 },
        { length: 170, steps: 1 },
      ],
      sotuFillers().train,
    );
    const rng = Rng.fromSeed(1);
    expect([1, 2, 3, 4].map(() => draw(rng, 3).len)).toEqual([130, 130, 170, 170]);
  });

  it('mixes the three variants and scores only the answer digits', () => {
    const draw = curriculumDraw([{ length: 200, steps: 1 }], sotuFillers().train);
    const b = draw(Rng.fromSeed(2), 60);
    const kinds = new Set<string>();
    for (let i = 0; i < b.n; i++) {
      const row = b.inputs.subarray(i * b.len, (i + 1) * b.len);
      const text = byteTokenizer.decode(row);
      kinds.add(/pass key/.test(text) ? '1' : / for [a-z]{4}\?/.test(text) ? '3' : '2');
      const scored = [...b.targets.subarray(i * b.len, (i + 1) * b.len)].filter((t) => t >= 0);
      expect(scored.length).toBeGreaterThanOrEqual(5);
      expect(scored.every((t) => t >= 48 && t <= 57)).toBe(true); // digits only
    }
    expect([...kinds].sort()).toEqual(['1', '2', '3']);
  });

  it('held-out sets of different lengths or variants hide different values (same seed)', () => {
    const answers = (v: 1 | 2 | 3, len: number) => {
      const b = niahDraw(v, len, sotuFillers().heldOut)(Rng.fromSeed(7), 6);
      return [...b.targets].filter((t) => t >= 0).join(',');
    };
    const a = answers(1, 300);
    expect(answers(1, 300)).toBe(a); // fixed by the seed
    expect(answers(1, 400)).not.toBe(a);
    expect(answers(2, 300)).not.toBe(a);
  });

  it('held-out haystacks come from other addresses than the training ones', () => {
    const { train, heldOut } = sotuFillers();
    expect(train.length).toBeGreaterThan(5 * heldOut.length);
    const b = niahDraw(2, 400, heldOut)(Rng.fromSeed(3), 4);
    const text = byteTokenizer.decode(b.inputs.subarray(0, 120));
    const trainText = byteTokenizer.decode(train);
    expect(trainText.includes(text.slice(10, 110))).toBe(false);
  });
});

describe('S-NIAH family', () => {
  it('runs every model on a tiny budget, fixed by the seed', () => {
    const budget: NiahBudget = {
      stages: [
        { length: 128, steps: 1 },
        { length: 150, steps: 1 },
      ],
      batch: 2,
      lr: 1e-3,
      evalLengths: [140, 180],
      evalSequences: 2,
      evalBatch: 2,
    };
    const opts = { quick: true, seeds: [5], log: () => {} };
    const a = runNiahFamily(opts, budget);
    // 4 models × 3 variants × 2 lengths × 2 metrics
    expect(a.rows).toHaveLength(48);
    expect([...new Set(a.rows.map((r) => r.model))]).toEqual(['transformer', 'deltanet', 'titans', 'hope']);
    expect([...new Set(a.rows.map((r) => r.task))]).toEqual(['S-NIAH-1', 'S-NIAH-2', 'S-NIAH-3']);
    for (const r of a.rows) {
      expect(r.value).toBeGreaterThanOrEqual(0);
      expect(r.value).toBeLessThanOrEqual(1);
      expect([140, 180]).toContain(r.x);
      expect(r.xLabel).toBe('context bytes');
      expect(r.steps).toBe(2);
      expect(r.tokens).toBe(2 * 128 + 2 * 150);
      expect(Number.isFinite(r.extra!.finalLoss as number)).toBe(true);
    }
    const b = runNiahFamily({ ...opts, models: ['titans'] }, budget);
    const titans = a.rows.filter((r) => r.model === 'titans');
    expect(b.rows.map((r) => r.value)).toEqual(titans.map((r) => r.value));
    expect(b.rows[0]!.extra!.finalLoss).toBe(titans[0]!.extra!.finalLoss);
  }, 600_000);
});
