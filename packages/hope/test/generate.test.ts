import { memory, noGrad, tensor } from '@nl/tensor';
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/data/rng.js';
import { byteTokenizer } from '../src/data/tokenizer.js';
import { buildModel } from '../src/models/build.js';
import type { LanguageModel } from '../src/models/contract.js';
import { generate, generateStream } from '../src/generate/generate.js';
import { argmax, sampleToken, samplingProbs } from '../src/generate/sampling.js';

const KINDS = ['transformer', 'deltanet', 'titans'] as const;
const small = (kind: string, vocabSize = 256): LanguageModel =>
  buildModel({
    kind: kind as 'transformer',
    vocabSize,
    dim: 16,
    layers: 2,
    heads: 2,
    dtype: 'float64',
    seed: 4,
  });

/** Last-row argmax of a teacher-forced forward over the whole sequence (no cache). */
function forwardArgmax(model: LanguageModel, ids: number[]): number {
  return noGrad(() => {
    const y = model.forward(tensor(ids, { shape: [1, ids.length], dtype: 'int32' }));
    const v = model.config.vocabSize;
    const row = y.dataSync().subarray((ids.length - 1) * v);
    y.dispose();
    return argmax(row);
  });
}

describe('generate', () => {
  it.each(KINDS)('%s: greedy generation equals the argmax of a full forward at every step', (kind) => {
    const m = small(kind, 17);
    const prompt = Int32Array.from([3, 1, 4, 1, 5]);
    const r = generate(m, prompt, { maxTokens: 12, temperature: 0 });
    expect(r.ids.length).toBe(12);
    expect(r.finish).toBe('maxTokens');
    const seq = Array.from(prompt);
    for (const id of r.ids) {
      expect(id).toBe(forwardArgmax(m, seq));
      seq.push(id);
    }
  });

  it('a tiny topP samples the argmax token, like greedy', () => {
    const m = small('deltanet', 17);
    const greedy = generate(m, Int32Array.from([1, 2]), { maxTokens: 8, temperature: 0 });
    const nucleus = generate(m, Int32Array.from([1, 2]), {
      maxTokens: 8,
      temperature: 1,
      topP: 1e-6,
      seed: 5,
    });
    expect(Array.from(nucleus.ids)).toEqual(Array.from(greedy.ids));
  });

  it('a seed reproduces a sampled generation; another seed gives another', () => {
    const m = small('transformer');
    const opts = { maxTokens: 24, temperature: 1.5, topK: 0 };
    const a = generate(m, 'Hello', { ...opts, seed: 7 });
    const b = generate(m, 'Hello', { ...opts, seed: 7 });
    const c = generate(m, 'Hello', { ...opts, seed: 8 });
    expect(Array.from(a.ids)).toEqual(Array.from(b.ids));
    expect(Array.from(a.ids)).not.toEqual(Array.from(c.ids));
    expect(Array.from(a.prompt)).toEqual(Array.from(byteTokenizer.encode('Hello')));
    expect(a.text).toBe(byteTokenizer.decode(a.ids));
  });

  it('onToken and generateStream see the same tokens and text as generate', async () => {
    const m = small('deltanet');
    const opts = { maxTokens: 15, temperature: 1, topK: 5, seed: 3 };
    const seen: number[] = [];
    let text = '';
    const r = generate(m, 'ab', { ...opts, onToken: (id, t) => (seen.push(id), (text += t)) });
    expect(seen).toEqual(Array.from(r.ids));
    const streamed: number[] = [];
    let streamedText = '';
    for await (const t of generateStream(m, 'ab', opts)) {
      streamed.push(t.id);
      streamedText += t.text;
      expect(t.index).toBe(streamed.length - 1);
    }
    expect(streamed).toEqual(Array.from(r.ids));
    // Streamed pieces hold back partial UTF-8 characters; the full text may end in one.
    expect(r.text.startsWith(streamedText) || streamedText === r.text).toBe(true);
    expect(text).toBe(streamedText);
  });

  it('stopTokens end generation after the stop id', () => {
    const m = small('titans', 17);
    const full = generate(m, Int32Array.from([2, 3]), { maxTokens: 10, temperature: 0 });
    const stopId = full.ids[3]!;
    const firstAt = Array.from(full.ids).indexOf(stopId);
    const r = generate(m, Int32Array.from([2, 3]), { maxTokens: 10, temperature: 0, stopTokens: [stopId] });
    expect(r.finish).toBe('stop');
    expect(Array.from(r.ids)).toEqual(Array.from(full.ids.subarray(0, firstAt + 1)));
  });

  it('does not leak tensors, also when a stream is abandoned early', async () => {
    const m = small('transformer');
    generate(m, 'x', { maxTokens: 3 });
    const before = memory().numTensors;
    generate(m, 'xyz', { maxTokens: 5, seed: 1 });
    for await (const t of generateStream(m, 'xyz', { maxTokens: 50 })) if (t.index === 2) break;
    expect(memory().numTensors).toBe(before);
  });

  it('bad prompts and options give clear errors', () => {
    const m = small('transformer', 17);
    expect(() => generate(m, 'hi')).toThrow(/string prompt needs a tokenizer for vocabSize 17/);
    expect(() => generate(m, new Int32Array(0))).toThrow(/at least one token/);
    expect(() => generate(m, Int32Array.from([1, 17]))).toThrow(
      /prompt id 17 at index 1 is outside \[0, 17\)/,
    );
    expect(() => generate(m, Int32Array.from([1]), { maxTokens: -1 })).toThrow(
      /maxTokens must be an integer >= 0/,
    );
    expect(() => generate(m, Int32Array.from([1]), { temperature: -0.5 })).toThrow(/temperature must be/);
    expect(() => generate(m, Int32Array.from([1]), { topK: 1.5 })).toThrow(/topK must be an integer/);
    expect(() => generate(m, Int32Array.from([1]), { topP: 0 })).toThrow(/topP must be a number in \(0, 1\]/);
    expect(() => generate(m, Int32Array.from([1]), { topP: 1.5 })).toThrow(/topP must be/);
    expect(generate(m, Int32Array.from([1]), { maxTokens: 0 }).ids.length).toBe(0);
  });
});

describe('sampling', () => {
  const logits = [1.0, 2.5, -0.5, 2.0, 0.0];

  it('samplingProbs is softmax(logits / T) over the top k', () => {
    const t = 0.7;
    const z = logits.map((l) => Math.exp(l / t));
    const s = z.reduce((a, b) => a + b, 0);
    samplingProbs(logits, t).forEach((p, i) => expect(p).toBeCloseTo(z[i]! / s, 14));
    const top2 = samplingProbs(logits, 1, 2);
    const e1 = Math.exp(2.5);
    const e3 = Math.exp(2.0);
    expect(Array.from(top2)).toEqual([
      0,
      expect.closeTo(e1 / (e1 + e3), 14),
      0,
      expect.closeTo(e3 / (e1 + e3), 14),
      0,
    ]);
  });

  it('topP keeps the fewest most-probable tokens reaching the mass, renormalised', () => {
    const full = samplingProbs(logits, 1); // order by probability: 1, 3, 0, 4, 2
    const order = [1, 3, 0, 4, 2];
    const top2 = full[1]! + full[3]!;
    // Just below the mass of the top two: two tokens; just above: three.
    for (const [pTop, n] of [
      [top2 - 1e-9, 2],
      [top2 + 1e-9, 3],
      [1e-6, 1],
    ] as const) {
      const kept = order.slice(0, n);
      const z = kept.reduce((a, i) => a + full[i]!, 0);
      const p = samplingProbs(logits, 1, 0, pTop);
      p.forEach((pi, i) => expect(pi).toBeCloseTo(kept.includes(i) ? full[i]! / z : 0, 14));
    }
    // topK first, then the nucleus of what is left.
    const k3 = samplingProbs(logits, 1, 3);
    const both = samplingProbs(logits, 1, 3, k3[1]! + 1e-9);
    const z = k3[1]! + k3[3]!;
    expect(Array.from(both)).toEqual([
      0,
      expect.closeTo(k3[1]! / z, 14),
      0,
      expect.closeTo(k3[3]! / z, 14),
      0,
    ]);
  });

  it('draw frequencies follow the sampling probabilities; temperature 0 and topK 1 are argmax', () => {
    const rng = Rng.fromSeed(11);
    const n = 40000;
    const counts = new Array<number>(logits.length).fill(0);
    for (let i = 0; i < n; i++) counts[sampleToken(logits, { temperature: 1.3, topK: 4 }, rng)]!++;
    const p = samplingProbs(logits, 1.3, 4);
    expect(counts[2]).toBe(0); // outside the top 4
    p.forEach((pi, i) =>
      expect(Math.abs(counts[i]! / n - pi)).toBeLessThan(4 * Math.sqrt((pi * (1 - pi)) / n) + 1e-9),
    );
    expect(sampleToken(logits, { temperature: 0, topK: 0 }, rng)).toBe(1);
    expect(sampleToken(logits, { temperature: 5, topK: 1 }, rng)).toBe(1);
    expect(() => sampleToken([0, NaN], { temperature: 1, topK: 0 }, rng)).toThrow(/logit 1 is NaN/);
  });
});
