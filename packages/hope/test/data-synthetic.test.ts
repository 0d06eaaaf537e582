// Synthetic memory tasks: the answer is recoverable from the context and only the answer bytes
// are masked; examples are fixed by the seed; bad options are rejected.
import { describe, expect, it } from 'vitest';
import { Rng, associativeRecall, byteTokenizer, needleInHaystack } from '../src/index.js';

const maskedText = (tokens: Int32Array, mask: Uint8Array) =>
  byteTokenizer.decode(Array.from(tokens).filter((_, i) => mask[i] === 1));

describe('associativeRecall', () => {
  it('queries one of the shown keys; the mask covers exactly its value', () => {
    const rng = Rng.fromSeed(1);
    for (let n = 0; n < 50; n++) {
      const ex = associativeRecall(rng, { pairs: 6, keyLength: 2, valueLength: 4 });
      const m = /^((?:[a-z]{2}=\d{4};){6})\?([a-z]{2})=(\d{4})\n$/.exec(ex.text);
      expect(m).not.toBeNull();
      const pairs = new Map(
        m![1]
          .split(';')
          .filter(Boolean)
          .map((p) => p.split('=') as [string, string]),
      );
      expect(pairs.size).toBe(6); // distinct keys
      expect(pairs.get(m![2])).toBe(m![3]);
      expect(ex.answer).toBe(m![3]);
      expect(maskedText(ex.tokens, ex.mask)).toBe(ex.answer);
      expect(byteTokenizer.decode(ex.tokens)).toBe(ex.text);
      expect(ex.mask.length).toBe(ex.tokens.length);
    }
  });

  it('is fixed by the seed', () => {
    const a = associativeRecall(Rng.fromSeed(5));
    expect(associativeRecall(Rng.fromSeed(5)).text).toBe(a.text);
    expect(associativeRecall(Rng.fromSeed(6)).text).not.toBe(a.text);
  });

  it('rejects impossible options', () => {
    expect(() => associativeRecall(Rng.fromSeed(1), { pairs: 20, keyLength: 1 })).toThrow(/too many/);
    expect(() => associativeRecall(Rng.fromSeed(1), { pairs: 0 })).toThrow(/pairs must be an integer >= 1/);
  });
});

describe('needleInHaystack', () => {
  const filler = 'The whale swam on. Ishmael watched the sea — “calm”, he said. ';

  it('states the secret once at the requested depth and asks for it; only the answer is masked', () => {
    const rng = Rng.fromSeed(2);
    for (const depth of [0, 0.25, 0.5, 1]) {
      const ex = needleInHaystack(rng, { filler, length: 400, depth, digits: 7 });
      const m = /^([^]*) The secret number is (\d{7})\. ([^]*)\nWhat is the secret number\? (\d{7})\n$/.exec(
        ex.text,
      );
      expect(m).not.toBeNull();
      expect(m![2]).toBe(m![4]);
      expect([...m![1]].length).toBe(Math.round(depth * 400));
      expect([...m![1]].length + [...m![3]].length).toBe(400);
      expect(ex.text.split(ex.answer).length - 1).toBe(2); // stated once, answered once
      expect(maskedText(ex.tokens, ex.mask)).toBe(ex.answer);
    }
  });

  it('keeps multi-byte characters whole and is fixed by the seed', () => {
    const a = needleInHaystack(Rng.fromSeed(9), { filler, length: 1000 });
    expect(byteTokenizer.decode(a.tokens)).toBe(a.text);
    expect(a.text).not.toContain('\uFFFD');
    expect(needleInHaystack(Rng.fromSeed(9), { filler, length: 1000 }).text).toBe(a.text);
  });

  it('rejects empty filler and bad depth', () => {
    expect(() => needleInHaystack(Rng.fromSeed(1), { filler: '  ' })).toThrow(/filler text is empty/);
    expect(() => needleInHaystack(Rng.fromSeed(1), { filler, depth: 1.5 })).toThrow(
      /depth must be in \[0, 1\]/,
    );
  });
});
