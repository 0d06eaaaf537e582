// The train/validation split (deterministic, disjoint, documented rule) and the batch
// iterators (shapes, ranges, seeded determinism, resumable state, sequential coverage).
import { describe, expect, it } from 'vitest';
import {
  DOCUMENT_SEPARATOR,
  RandomBatches,
  loadCorpus,
  sequentialBatches,
  sequentialWindowCount,
  splitCorpus,
  type Corpus,
} from '../src/index.js';

const docs = (n: number, len = 50): Corpus => ({
  name: 'synthetic',
  documents: Array.from({ length: n }, (_, i) => ({ name: `d${i}`, text: `<${i}>` + 'x'.repeat(len) })),
});

describe('splitCorpus', () => {
  it('by document: every 10th document is validation, disjoint and complete', () => {
    const s = splitCorpus(docs(25));
    expect(s.rule).toBe('document');
    expect(s.valDocuments).toEqual(['d9', 'd19']);
    expect(s.trainDocuments.length).toBe(23);
    expect(s.trainDocuments.filter((d) => s.valDocuments.includes(d))).toEqual([]);
    const val = new TextDecoder().decode(s.val);
    expect(val).toBe(`<9>${'x'.repeat(50)}${DOCUMENT_SEPARATOR}<19>${'x'.repeat(50)}`);
    const train = new TextDecoder().decode(s.train);
    expect(train.split(DOCUMENT_SEPARATOR).length).toBe(23);
    expect(train.includes('<9>')).toBe(false);
  });

  it('valFraction sets k = round(1 / valFraction)', () => {
    expect(splitCorpus(docs(25), { valFraction: 0.25 }).valDocuments).toEqual([
      'd3',
      'd7',
      'd11',
      'd15',
      'd19',
      'd23',
    ]);
    expect(() => splitCorpus(docs(25), { valFraction: 0 })).toThrow(/valFraction/);
    expect(() => splitCorpus(docs(25), { valFraction: 0.9 })).toThrow(/valFraction/);
  });

  it('by bytes for small corpora: the tail of each document, cut at a character start', () => {
    const c: Corpus = { name: 'one', documents: [{ name: 'f', text: 'ab'.repeat(45) + 'ééééé' }] }; // 100 bytes
    const s = splitCorpus(c);
    expect(s.rule).toBe('bytes');
    expect(s.train.length + s.val.length).toBe(100);
    expect(s.val.length).toBe(10);
    expect(new TextDecoder().decode(s.val)).toBe('ééééé');
    const odd: Corpus = { name: 'odd', documents: [{ name: 'f', text: 'a'.repeat(89) + 'éééééé' }] }; // 101 bytes: the cut at 101 - 11 = 90 lands mid-é and moves to 91
    const t = splitCorpus(odd);
    expect(new TextDecoder('utf-8', { fatal: true }).decode(t.val)).toBe('ééééé');
    expect(new TextDecoder('utf-8', { fatal: true }).decode(t.train)).toBe('a'.repeat(89) + 'é');
  });

  it('is deterministic on the real corpus and holds out about 10% of SOTU', () => {
    const c = loadCorpus('sotu');
    const a = splitCorpus(c);
    const b = splitCorpus(loadCorpus('sotu'));
    expect(Buffer.from(a.val).equals(Buffer.from(b.val))).toBe(true);
    expect(Buffer.from(a.train).equals(Buffer.from(b.train))).toBe(true);
    expect(a.valDocuments.length).toBe(23);
    const frac = a.val.length / (a.val.length + a.train.length);
    expect(frac).toBeGreaterThan(0.05);
    expect(frac).toBeLessThan(0.15);
  });

  it('errors when a side would be empty', () => {
    expect(() => splitCorpus({ name: 'tiny', documents: [{ name: 'f', text: 'a' }] })).toThrow(
      /too small to split/,
    );
    expect(() => splitCorpus({ name: 'none', documents: [] })).toThrow(/no documents/);
  });
});

describe('batches', () => {
  const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) % 256);

  it('RandomBatches: shape [B, T+1], ids in range, rows are contiguous windows of the data', () => {
    const rb = new RandomBatches(data, 4, 16, 1);
    for (let n = 0; n < 20; n++) {
      const batch = rb.next();
      expect(batch.tokens).toBeInstanceOf(Int32Array);
      expect(batch.tokens.length).toBe(4 * 17);
      expect(batch.batchSize).toBe(4);
      expect(batch.seqLen).toBe(16);
      for (let b = 0; b < 4; b++) {
        const row = batch.tokens.subarray(b * 17, (b + 1) * 17);
        const start = data.findIndex(
          (_, i) => i + 17 <= data.length && row.every((v, j) => data[i + j] === v),
        );
        expect(start).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it('same seed gives the same batches; another seed differs; the state resumes exactly', () => {
    const a = new RandomBatches(data, 3, 8, 99);
    const b = new RandomBatches(data, 3, 8, 99);
    const c = new RandomBatches(data, 3, 8, 100);
    const first = [a.next(), a.next()].map((x) => Array.from(x.tokens));
    expect([b.next(), b.next()].map((x) => Array.from(x.tokens))).toEqual(first);
    expect([c.next(), c.next()].map((x) => Array.from(x.tokens))).not.toEqual(first);
    const resumed = new RandomBatches(data, 3, 8, JSON.parse(JSON.stringify(a.state())));
    expect(Array.from(resumed.next().tokens)).toEqual(Array.from(a.next().tokens));
  });

  it('covers every start offset including the last one', () => {
    const small = Uint8Array.from([0, 1, 2, 3, 4]);
    const rb = new RandomBatches(small, 8, 3, 5);
    const firsts = new Set<number>();
    for (let n = 0; n < 50; n++) {
      const t = rb.next().tokens;
      for (let b = 0; b < 8; b++) firsts.add(t[b * 4]);
    }
    expect([...firsts].sort()).toEqual([0, 1]);
  });

  it('sequentialBatches: stride T, every byte after the first scored once, last batch partial', () => {
    const seq = Uint8Array.from({ length: 23 }, (_, i) => i);
    const batches = [...sequentialBatches(seq, 2, 5)];
    expect(sequentialWindowCount(23, 5)).toBe(4);
    expect(batches.map((b) => b.batchSize)).toEqual([2, 2]);
    const targets: number[] = [];
    for (const b of batches)
      for (let r = 0; r < b.batchSize; r++) targets.push(...b.tokens.subarray(r * 6 + 1, (r + 1) * 6));
    expect(targets).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect([...sequentialBatches(seq, 3, 5)].map((b) => b.batchSize)).toEqual([3, 1]);
    expect([...sequentialBatches(seq, 1, 5, 2)].length).toBe(2);
  });

  it('rejects data shorter than T+1 and bad shapes', () => {
    expect(() => new RandomBatches(new Uint8Array(5), 2, 5, 1)).toThrow(/fewer than seqLen \+ 1 = 6/);
    expect(() => new RandomBatches(data, 0, 5, 1)).toThrow(/batchSize/);
    expect(() => [...sequentialBatches(data, 2, 0)]).toThrow(/seqLen/);
  });
});
