import { describe, expect, it } from 'vitest';
import { MODEL_KINDS, modelsSuite, tinyModel } from '../src/suites/models.js';

describe('models suite', () => {
  it('builds the four tiny models at their documented sizes', () => {
    for (const kind of MODEL_KINDS) {
      const m = tinyModel(kind);
      expect(m.config.kind).toBe(kind);
      expect(m.config.vocabSize).toBe(256);
      expect(m.config.dim).toBe(128);
      m.dispose?.();
    }
  });

  it('gives one train row and one decode row per model, ratios against transformer-tiny', async () => {
    const rows = await modelsSuite({ batch: 1, seq: 8, trainSteps: 1, decodeTokens: 4, rounds: 1, kinds: ['transformer', 'deltanet'] }); // prettier-ignore
    expect(rows).toHaveLength(4);
    const train = rows.filter((r) => r.case.startsWith('train step'));
    const decode = rows.filter((r) => r.case.startsWith('decode'));
    expect(train.map((r) => r.impl)).toEqual(['transformer-tiny', 'deltanet-tiny']);
    expect(decode.map((r) => r.impl)).toEqual(['transformer-tiny', 'deltanet-tiny']);
    for (const r of rows) {
      expect(r.rate).toBeGreaterThan(0);
      expect(Number.isFinite(r.rate)).toBe(true);
    }
    expect(train[0]!.ratio).toBe(1);
    expect(decode[0]!.ratio).toBe(1);
    // ratio = rate / transformer's rate on the same case
    expect(train[1]!.ratio).toBeCloseTo(train[1]!.rate! / train[0]!.rate!, 12);
    expect(decode[0]!.note).toMatch(/^decoder \w+/);
  });
});
