// S-NIAH generator against an oracle that reads the example's text: it parses the question at the
// end (and the key it names), finds the one needle stating that key's number in the text before
// the question, and checks that the scored bytes are exactly that number's digits, right after the
// question. Also: the exact length, the needle's depth, the haystack (noise or the filler's own
// text), determinism under a seed, and bad options named.
import { describe, expect, it } from 'vitest';
import {
  NIAH_NOISE,
  Rng,
  byteTokenizer,
  niahOverhead,
  singleNeedle,
  type NiahVariant,
} from '../src/index.js';

const SOTU_LIKE =
  'In 1790 the Congress met in New York. Fellow-Citizens of the Senate and House of Representatives: ' +
  'I embrace with great satisfaction the opportunity which now presents itself — of congratulating you ' +
  'on the present favorable prospects of our public affairs, with 13 states and 3,929,214 people. ';

/** Solves an example from its text alone: the answer the question asks for, by reading the needle. */
function oracle(text: string): { answer: string; answerAt: number; key: string; needleAt: number } {
  const q = /\nWhat is the (pass key|magic number)(?: for ([a-z]+))?\? The \1(?: for \2)? is $/;
  // the question is the last line before the answer; try every cut of the tail to find it
  for (let end = text.length; end > 0; end--) {
    const head = text.slice(0, end);
    const m = q.exec(head);
    if (m === null) continue;
    const before = head.slice(0, m.index);
    const key = m[2] ?? '';
    const phrase =
      m[1] === 'pass key'
        ? 'The pass key is '
        : key
          ? `The magic number for ${key} is `
          : 'The magic number is ';
    const needleAt = before.indexOf(` ${phrase}`);
    expect(before.indexOf(` ${phrase}`, needleAt + 1)).toBe(-1); // one needle only
    const digits = /^\d+/.exec(before.slice(needleAt + 1 + phrase.length))![0];
    return { answer: digits, answerAt: end, key, needleAt };
  }
  throw new Error('oracle: no question found');
}

const scored = (tokens: Int32Array, mask: Uint8Array) =>
  byteTokenizer.decode(Array.from(tokens).filter((_, i) => mask[i] === 1));

describe('singleNeedle', () => {
  it.each([
    { variant: 1 as NiahVariant, length: 160 },
    { variant: 1 as NiahVariant, length: 1000, digits: 8 },
    { variant: 2 as NiahVariant, length: 300 },
    { variant: 2 as NiahVariant, length: 900 },
    { variant: 3 as NiahVariant, length: 260 },
    { variant: 3 as NiahVariant, length: 700, keyLength: 6, digits: 4 },
  ])('the scored bytes are the oracle answer, the length is exact (%o)', (opts) => {
    const rng = Rng.fromSeed(4);
    for (let n = 0; n < 30; n++) {
      const ex = singleNeedle(rng, { filler: SOTU_LIKE, ...opts });
      expect(ex.tokens.length).toBe(opts.length);
      expect(ex.mask.length).toBe(opts.length);
      const text = byteTokenizer.decode(ex.tokens);
      expect(text.endsWith('.\n')).toBe(true);
      const o = oracle(text.slice(0, -2 - ex.value.length));
      expect(o.answer).toBe(ex.value);
      expect(o.key).toBe(ex.key);
      expect(scored(ex.tokens, ex.mask)).toBe(o.answer);
      // the scored positions are the bytes right after the question
      const first = ex.mask.indexOf(1);
      expect(first).toBe(opts.length - 2 - ex.value.length);
      expect(ex.mask.lastIndexOf(1) - first + 1).toBe(o.answer.length);
      expect(o.answer.length).toBe(opts.digits ?? (opts.variant === 3 ? 7 : 5));
      expect(o.answer[0]).not.toBe('0');
      if (opts.variant === 3) expect(o.key).toMatch(new RegExp(`^[a-z]{${opts.keyLength ?? 4}}$`));
      expect(byteTokenizer.decode(ex.tokens.subarray(0, ex.needleAt)).length).toBe(o.needleAt);
    }
  });

  it('hides the passkey in the noise and the numbers in the filler', () => {
    const a = singleNeedle(Rng.fromSeed(1), { variant: 1, length: 600, depth: 0.5 });
    const text = byteTokenizer.decode(a.tokens);
    const hay = text.slice(0, text.indexOf('\nWhat')).replace(/ The pass key is \d+\. Remember it\. /, '');
    expect(NIAH_NOISE.repeat(20)).toContain(hay.trim().slice(0, 200));
    const b = singleNeedle(Rng.fromSeed(1), { variant: 2, length: 600, filler: SOTU_LIKE });
    const hay2 = byteTokenizer.decode(b.tokens).split(' The magic number is ')[0]!;
    expect(SOTU_LIKE.repeat(4)).toContain(hay2.slice(-60));
  });

  it('puts the needle at the requested depth', () => {
    const rng = Rng.fromSeed(2);
    const over = niahOverhead(2);
    for (const depth of [0, 0.25, 0.5, 0.75, 1]) {
      const ex = singleNeedle(rng, { variant: 2, length: 2000, depth, filler: SOTU_LIKE });
      const hay = 2000 - over;
      // moved forward to just after the next space: never before the depth, and not far after it
      expect(ex.needleAt).toBeGreaterThanOrEqual(Math.round(depth * hay));
      expect(ex.needleAt - Math.round(depth * hay)).toBeLessThanOrEqual(20);
    }
  });

  it('uses the whole length for the smallest example', () => {
    for (const variant of [1, 2, 3] as const) {
      const ex = singleNeedle(Rng.fromSeed(3), { variant, length: niahOverhead(variant), filler: 'x y' });
      expect(ex.needleAt).toBe(0);
      expect(oracle(byteTokenizer.decode(ex.tokens).slice(0, -2 - ex.value.length)).answer).toBe(ex.value);
      expect(() =>
        singleNeedle(Rng.fromSeed(3), { variant, length: niahOverhead(variant) - 1, filler: 'x y' }),
      ).toThrow(/too short for S-NIAH/);
    }
  });

  it('never splits a multi-byte character of the filler', () => {
    const rng = Rng.fromSeed(8);
    for (let n = 0; n < 200; n++) {
      const ex = singleNeedle(rng, { variant: 2, length: 120 + rng.int(60), filler: 'ab — “é” ü 東京 ' });
      const text = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(ex.tokens));
      expect(text).not.toContain('\uFFFD');
    }
  });

  it('is fixed by the seed', () => {
    const opts = { variant: 3 as const, length: 400, filler: SOTU_LIKE };
    const a = singleNeedle(Rng.fromSeed(9), opts);
    expect(singleNeedle(Rng.fromSeed(9), opts).tokens).toEqual(a.tokens);
    expect(singleNeedle(Rng.fromSeed(10), opts).tokens).not.toEqual(a.tokens);
  });

  it('takes the filler as text or as its bytes, with the same result', () => {
    const opts = { variant: 2 as const, length: 500 };
    const a = singleNeedle(Rng.fromSeed(12), { ...opts, filler: SOTU_LIKE });
    const b = singleNeedle(Rng.fromSeed(12), { ...opts, filler: new TextEncoder().encode(SOTU_LIKE) });
    expect(b.tokens).toEqual(a.tokens);
  });

  it('names bad options', () => {
    const rng = Rng.fromSeed(1);
    expect(() => singleNeedle(rng, { variant: 4 as NiahVariant, length: 300 })).toThrow(
      /variant must be 1, 2 or 3/,
    );
    expect(() => singleNeedle(rng, { variant: 1, length: 0 })).toThrow(/length must be an integer >= 1/);
    expect(() => singleNeedle(rng, { variant: 2, length: 300 })).toThrow(/filler text is empty/);
    expect(() => singleNeedle(rng, { variant: 2, length: 300, filler: '  ' })).toThrow(
      /filler text is empty/,
    );
    expect(() => singleNeedle(rng, { variant: 1, length: 300, depth: 1.5 })).toThrow(
      /depth must be in \[0, 1\]/,
    );
    expect(() => singleNeedle(rng, { variant: 1, length: 300, digits: 0 })).toThrow(/digits must be/);
    expect(() => singleNeedle(rng, { variant: 3, length: 300, filler: 'a b', keyLength: 0 })).toThrow(
      /keyLength must be/,
    );
  });
});
