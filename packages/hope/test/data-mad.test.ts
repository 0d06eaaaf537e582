// MAD generators against oracles that solve each task from the visible tokens alone: recall by
// reading earlier key–value slots (or key and value runs, for fuzzy recall), copying by reading
// the non-blank tokens before the copy token, compression by reading the token a query points at;
// memorization against its fixed map, learnt from draws under other seeds. Also: every scored
// answer is exactly where the oracle says one is due, a seed fixes the draws, bad options are named.
import { describe, expect, it } from 'vitest';
import {
  MAD_IGNORE,
  Rng,
  madCompression,
  madFuzzyRecall,
  madInContextRecall,
  madMemorization,
  madMemorizationMap,
  madNoisyRecall,
  madSelectiveCopying,
  type MadExample,
} from '../src/index.js';

/** Scored positions of an example, as a map position -> target. */
const scoredOf = (ex: MadExample) =>
  new Map([...ex.targets.entries()].filter(([, t]) => t !== MAD_IGNORE).map(([i, t]) => [i, t]));

/**
 * Solves slot recall from the inputs: keys sit at even positions (when in the key range); a key
 * shown before must be answered with the value that followed it. Returns position -> answer (the
 * answer to key position p is due at p, predicting token p + 1).
 */
function recallOracle(inputs: Int32Array, keys: [number, number]): Map<number, number> {
  const seen = new Map<number, number>();
  const answers = new Map<number, number>();
  for (let p = 0; p < inputs.length; p += 2) {
    const k = inputs[p]!;
    if (k < keys[0] || k >= keys[1]) continue; // a noise slot
    if (seen.has(k)) answers.set(p, seen.get(k)!);
    else seen.set(k, inputs[p + 1]!);
  }
  return answers;
}

describe('madInContextRecall / madNoisyRecall', () => {
  it.each([
    { name: 'recall', draw: madInContextRecall, opts: {}, keys: [0, 8] as [number, number], len: 31 },
    {
      name: 'recall, 64 ids, 64 tokens',
      draw: madInContextRecall,
      opts: { vocabSize: 64, seqLen: 64 },
      keys: [0, 32] as [number, number],
      len: 63,
    },
    { name: 'noisy', draw: madNoisyRecall, opts: {}, keys: [0, 8] as [number, number], len: 31 },
    {
      name: 'noisy 50%',
      draw: madNoisyRecall,
      opts: { fracNoise: 0.5, seqLen: 48 },
      keys: [0, 8] as [number, number],
      len: 47,
    },
  ])('every scored value is the oracle answer ($name)', ({ draw, opts, keys, len }) => {
    const rng = Rng.fromSeed(5);
    let noisy = 0;
    for (let n = 0; n < 60; n++) {
      const ex = draw(rng, opts);
      expect(ex.inputs.length).toBe(len);
      // the value of the last key is the final target; the oracle needs only inputs
      const answers = recallOracle(ex.inputs, keys);
      expect(scoredOf(ex)).toEqual(answers);
      expect(answers.has(len - 1)).toBe(true); // the closing probe is always scored
      // scored targets are the next input (autoregressive) except at the end
      for (const [p, a] of answers) if (p + 1 < len) expect(ex.inputs[p + 1]).toBe(a);
      noisy += [...ex.inputs].filter((t) => t >= keys[1] * 2).length;
    }
    if (draw === madNoisyRecall) expect(noisy).toBeGreaterThan(0);
    else expect(noisy).toBe(0);
  });

  it('noise fraction is near fracNoise', () => {
    const rng = Rng.fromSeed(8);
    let slots = 0;
    let noise = 0;
    for (let n = 0; n < 200; n++) {
      const ex = madNoisyRecall(rng, { fracNoise: 0.4, seqLen: 64 });
      for (let p = 0; p < ex.inputs.length; p += 2) {
        slots++;
        if (ex.inputs[p]! >= 16) noise++;
      }
    }
    // 31 of 32 slots may be noise, one is kept a pair: expect 0.4 · 30/32 ≈ 0.375
    expect(noise / slots).toBeGreaterThan(0.34);
    expect(noise / slots).toBeLessThan(0.41);
  });

  it('is fixed by the seed and names bad options', () => {
    const a = madNoisyRecall(Rng.fromSeed(3));
    expect(madNoisyRecall(Rng.fromSeed(3))).toEqual(a);
    expect(madNoisyRecall(Rng.fromSeed(4)).inputs).not.toEqual(a.inputs);
    const rng = Rng.fromSeed(1);
    expect(() => madInContextRecall(rng, { seqLen: 31 })).toThrow(/seqLen must be even/);
    expect(() => madInContextRecall(rng, { vocabSize: 300 })).toThrow(/vocabSize must be an integer/);
    expect(() => madInContextRecall(rng, { fracNoise: 0.3 })).toThrow(/needs noiseVocabSize/);
    expect(() => madNoisyRecall(rng, { fracNoise: 1 })).toThrow(/fracNoise must be in \[0, 1\)/);
    expect(() => madNoisyRecall(rng, { noiseVocabSize: 31 })).toThrow(/noiseVocabSize/);
  });
});

/**
 * Solves fuzzy recall from the visible tokens: after the pads, maximal runs of key ids and of
 * value ids alternate; a key run shown before must be followed by the value run shown with it.
 */
function fuzzyOracle(tokens: number[], keyHi: number, pad: number): Map<number, number> {
  const answers = new Map<number, number>();
  const table = new Map<string, number[]>();
  let i = 0;
  while (tokens[i] === pad) i++;
  while (i < tokens.length) {
    const k0 = i;
    while (i < tokens.length && tokens[i]! < keyHi) i++;
    const key = tokens.slice(k0, i).join(',');
    const v0 = i;
    while (i < tokens.length && tokens[i]! >= keyHi && tokens[i] !== pad) i++;
    const value = tokens.slice(v0, i);
    expect(key.length).toBeGreaterThan(0);
    expect(value.length).toBeGreaterThan(0);
    const known = table.get(key);
    if (known)
      known.forEach((v, j) => answers.set(v0 + j - 1, v)); // due one position earlier
    else table.set(key, value);
  }
  return answers;
}

describe('madFuzzyRecall', () => {
  it.each([{}, { evaluation: true }, { vocabSize: 32, seqLen: 96, keyMotif: 2, valueMotif: 4 }])(
    'every scored token is the oracle answer (%o)',
    (opts) => {
      const rng = Rng.fromSeed(11);
      const vocab = opts.vocabSize ?? 16;
      const keyHi = Math.floor((vocab - 1) / 2);
      const len = opts.seqLen ?? 64;
      let keySizes = new Set<number>();
      for (let n = 0; n < 60; n++) {
        const ex = madFuzzyRecall(rng, opts);
        expect(ex.inputs.length).toBe(len);
        const scored = scoredOf(ex);
        // the visible stream: the inputs, then the last target (the closing value's last token)
        const tokens = [...ex.inputs, ex.targets[len - 1]!];
        const answers = fuzzyOracle(tokens, keyHi, vocab - 1);
        expect(scored).toEqual(answers);
        expect(scored.has(len - 1)).toBe(true); // the closing probe is answerable
        // every key run has distinct ids and a size within keyMotif (= keyMotif at evaluation)
        keySizes = new Set([...keySizes, ...keyRunSizes(tokens, keyHi)]);
      }
      const k = opts.keyMotif ?? 3;
      if ('evaluation' in opts) expect([...keySizes]).toEqual([k]);
      else expect([...keySizes].sort()).toEqual(Array.from({ length: k }, (_, i) => i + 1));
    },
  );

  it('is fixed by the seed and names bad options', () => {
    const a = madFuzzyRecall(Rng.fromSeed(2));
    expect(madFuzzyRecall(Rng.fromSeed(2))).toEqual(a);
    const rng = Rng.fromSeed(1);
    expect(() => madFuzzyRecall(rng, { keyMotif: 8 })).toThrow(/keyMotif must be an integer in \[1, 7\]/);
    expect(() => madFuzzyRecall(rng, { seqLen: 20 })).toThrow(/seqLen must be an integer in \[24/);
    expect(() => madFuzzyRecall(rng, { vocabSize: 4 })).toThrow(/vocabSize/);
  });
});

/** Lengths of the maximal key runs (ids below keyHi) in a token stream. */
function keyRunSizes(tokens: number[], keyHi: number): number[] {
  const sizes: number[] = [];
  let run = 0;
  for (const t of [...tokens, 1e9]) {
    if (t < keyHi) run++;
    else if (run > 0) {
      sizes.push(run);
      run = 0;
    }
  }
  return sizes;
}

describe('madSelectiveCopying', () => {
  it.each([{}, { selective: false }, { vocabSize: 64, seqLen: 48, tokensToCopy: 12 }])(
    'the scored outputs are the non-blank tokens before the copy token, in order (%o)',
    (opts) => {
      const rng = Rng.fromSeed(4);
      const vocab = opts.vocabSize ?? 16;
      const [copy, blank] = [vocab - 1, vocab - 2];
      for (let n = 0; n < 60; n++) {
        const ex = madSelectiveCopying(rng, opts);
        expect(ex.inputs.length).toBe(opts.seqLen ?? 32);
        const c = ex.inputs.indexOf(copy);
        const content = [...ex.inputs.subarray(0, c)].filter((t) => t !== blank);
        expect(content.length).toBe(opts.tokensToCopy ?? 8);
        const after = [...ex.inputs.subarray(c + 1)];
        expect(after.every((t) => t === blank)).toBe(true); // the answers are never shown
        const want = new Map(content.map((t, j) => [c + 1 + j, t]));
        expect(scoredOf(ex)).toEqual(want);
        if (opts.selective === false) expect([...ex.inputs.subarray(0, content.length)]).toEqual(content);
      }
    },
  );

  it('scatters the content (selective) and is fixed by the seed; names bad options', () => {
    const rng = Rng.fromSeed(6);
    const firstBlank = new Set<number>();
    for (let n = 0; n < 50; n++) firstBlank.add(madSelectiveCopying(rng).inputs.indexOf(14));
    expect(firstBlank.size).toBeGreaterThan(3);
    expect(madSelectiveCopying(Rng.fromSeed(2))).toEqual(madSelectiveCopying(Rng.fromSeed(2)));
    expect(() => madSelectiveCopying(rng, { seqLen: 17 })).toThrow(/seqLen must be an integer in \[18/);
    expect(() => madSelectiveCopying(rng, { tokensToCopy: 0 })).toThrow(/tokensToCopy/);
    expect(() => madSelectiveCopying(rng, { vocabSize: 2 })).toThrow(/vocabSize/);
  });
});

describe('madCompression', () => {
  it('each query is answered with the content token it points at', () => {
    const rng = Rng.fromSeed(7);
    for (const opts of [{}, { vocabSize: 32, seqLen: 24 }]) {
      const vocab = opts.vocabSize ?? 16;
      const l = (opts.seqLen ?? 16) - 1;
      for (let n = 0; n < 40; n++) {
        const ex = madCompression(rng, opts);
        expect(ex.inputs.length).toBe(2 * l + 1);
        const c = ex.inputs.indexOf(vocab - 1);
        expect(c).toBe(l);
        const want = new Map<number, number>();
        for (let p = c + 1; p < ex.inputs.length; p++) want.set(p, ex.inputs[ex.inputs[p]! - vocab]!);
        expect(scoredOf(ex)).toEqual(want);
        expect([...ex.inputs.subarray(0, c)].every((t) => t < vocab - 1)).toBe(true);
      }
    }
  });

  it('is fixed by the seed; names bad options', () => {
    expect(madCompression(Rng.fromSeed(2))).toEqual(madCompression(Rng.fromSeed(2)));
    const rng = Rng.fromSeed(1);
    expect(() => madCompression(rng, { vocabSize: 200, seqLen: 80 })).toThrow(
      /seqLen must be an integer in \[2, 57\]/,
    );
    expect(() => madCompression(rng, { vocabSize: 1 })).toThrow(/vocabSize/);
  });
});

describe('madMemorization', () => {
  it('targets follow one fixed key -> value map, the same under every seed', () => {
    // learn the map from draws under many seeds; it must be a function, injective, and agree
    // with madMemorizationMap
    const learnt = new Map<number, number>();
    for (let seed = 0; seed < 40; seed++) {
      const ex = madMemorization(Rng.fromSeed(seed), { vocabSize: 64 });
      for (let i = 0; i < ex.inputs.length; i += 2) {
        expect(ex.inputs[i + 1]).toBe(63); // the insert token
        expect(ex.targets[i]).toBe(MAD_IGNORE);
        const [k, v] = [ex.inputs[i]!, ex.targets[i + 1]!];
        if (learnt.has(k)) expect(learnt.get(k)).toBe(v);
        learnt.set(k, v);
        expect(k).toBeLessThan(31);
        expect(v >= 31 && v < 63).toBe(true);
      }
    }
    expect(learnt.size).toBe(31); // every key was drawn
    expect(new Set(learnt.values()).size).toBe(31); // injective
    const map = madMemorizationMap({ vocabSize: 64 });
    for (const [k, v] of learnt) expect(map.get(k)).toBe(v);
    // another map seed gives another map
    const other = madMemorizationMap({ vocabSize: 64, mapSeed: 1 });
    expect([...other.entries()]).not.toEqual([...map.entries()]);
  });

  it('is fixed by the seed; names bad options', () => {
    expect(madMemorization(Rng.fromSeed(2))).toEqual(madMemorization(Rng.fromSeed(2)));
    const rng = Rng.fromSeed(1);
    expect(() => madMemorization(rng, { seqLen: 7 })).toThrow(/seqLen must be even/);
    expect(() => madMemorization(rng, { vocabSize: 2 })).toThrow(/vocabSize/);
    expect(() => madMemorization(rng, { mapSeed: 0.5 })).toThrow(/mapSeed/);
  });
});
