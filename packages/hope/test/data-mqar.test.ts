// MQAR generator against an oracle that solves it by reading the pairs section: every masked
// position holds the value shown for the key just before it; keys are distinct and in range;
// the layout (pairs, gap, queries) is exact; a seed fixes the sequence; bad options are named.
// Also: Rng refuses construction from a seed number (JavaScript callers bypass `private`).
import { describe, expect, it } from 'vitest';
import { Rng, mqarLength, multiQueryRecall, type MqarOptions } from '../src/index.js';

/** Solves an MQAR sequence from its tokens alone: the first value after each key's first showing. */
function oracle(tokens: Int32Array, o: Required<Pick<MqarOptions, 'pairs' | 'gap'>>): Map<number, number> {
  const answers = new Map<number, number>();
  const table = new Map<number, number>();
  for (let i = 0; i < 2 * o.pairs; i += 2) table.set(tokens[i]!, tokens[i + 1]!);
  for (let i = 2 * o.pairs + o.gap; i < tokens.length; i += 2) answers.set(i + 1, table.get(tokens[i]!)!);
  return answers;
}

describe('multiQueryRecall', () => {
  it.each([
    { pairs: 4 },
    { pairs: 8, queries: 3, gap: 5 },
    { pairs: 3, queries: 7 },
    { pairs: 2, keyRange: [65, 70], valueRange: [48, 50], filler: 10 },
  ] as MqarOptions[])('every masked value is the oracle answer (%o)', (opts) => {
    const rng = Rng.fromSeed(3);
    const pairs = opts.pairs ?? 4;
    const gap = opts.gap ?? 0;
    const queries = opts.queries ?? pairs;
    const [klo, khi] = opts.keyRange ?? [128, 192];
    const [vlo, vhi] = opts.valueRange ?? [192, 256];
    for (let n = 0; n < 40; n++) {
      const ex = multiQueryRecall(rng, opts);
      expect(ex.tokens.length).toBe(2 * pairs + gap + 2 * queries);
      expect(mqarLength(opts)).toBe(ex.tokens.length);
      const keys = ex.pairs.map(([k]) => k);
      expect(new Set(keys).size).toBe(pairs);
      for (const [k, v] of ex.pairs) {
        expect(k >= klo && k < khi).toBe(true);
        expect(v >= vlo && v < vhi).toBe(true);
      }
      for (let i = 2 * pairs; i < 2 * pairs + gap; i++) expect(ex.tokens[i]).toBe(opts.filler ?? 32);
      const answers = oracle(ex.tokens, { pairs, gap });
      const masked = [...ex.mask.keys()].filter((i) => ex.mask[i] === 1);
      expect(masked).toEqual([...answers.keys()]);
      for (const [i, v] of answers) expect(ex.tokens[i]).toBe(v);
      // each round of queries asks every key once before any repeats
      const asked = masked.map((i) => ex.tokens[i - 1]!);
      for (let r = 0; r < asked.length; r += pairs)
        expect(new Set(asked.slice(r, r + pairs)).size).toBe(Math.min(pairs, asked.length - r));
    }
  });

  it('is fixed by the seed', () => {
    const a = multiQueryRecall(Rng.fromSeed(9), { pairs: 6 });
    expect(multiQueryRecall(Rng.fromSeed(9), { pairs: 6 }).tokens).toEqual(a.tokens);
    expect(multiQueryRecall(Rng.fromSeed(10), { pairs: 6 }).tokens).not.toEqual(a.tokens);
  });

  it('names bad options', () => {
    const rng = Rng.fromSeed(1);
    expect(() => multiQueryRecall(rng, { pairs: 0 })).toThrow(/pairs must be an integer >= 1/);
    expect(() => multiQueryRecall(rng, { gap: -1 })).toThrow(/gap must be an integer >= 0/);
    expect(() => multiQueryRecall(rng, { pairs: 5, keyRange: [0, 4] })).toThrow(/exceed the 4 distinct keys/);
    expect(() => multiQueryRecall(rng, { keyRange: [0, 10], valueRange: [5, 20] })).toThrow(/overlap/);
    expect(() => multiQueryRecall(rng, { valueRange: [200, 300] })).toThrow(/valueRange must be/);
    expect(() => multiQueryRecall(rng, { filler: 130 })).toThrow(/filler 130 lies in the key or value range/);
  });
});

describe('Rng construction', () => {
  it('refuses `new Rng(seed)` from JavaScript instead of looping forever in int()', () => {
    const Ctor = Rng as unknown as new (s: unknown) => Rng;
    expect(() => new Ctor(42)).toThrow(/Rng.fromSeed/);
  });
});
