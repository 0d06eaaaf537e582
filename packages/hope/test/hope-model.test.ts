/**
 * HopeLM forward behaviour: shapes, causality, streaming decoder == teacher-forced rows (float64,
 * both SelfModifyingTitans impls, pieces of any size), save → load → identical logits, seeded
 * determinism, registration with buildModel.
 */
import { io, noGrad } from '@nl/tensor';
import { describe, expect, it } from 'vitest';
import { buildModel } from '../src/models/build.js';
import { HopeLM } from '../src/models/hope.js';
import type { HopeDecoder } from '../src/models/hope-decoder.js';
import { ids2d, lcgIds, logitsOf, maxAbsDiff, tinyHope } from './hope-helpers.js';

describe('HopeLM forward', () => {
  it('maps tokens [B, T] to finite logits [B, T, V]', () => {
    const m = tinyHope();
    const y = noGrad(() => m.forward(ids2d([lcgIds(7, 16, 1), lcgIds(7, 16, 2)])));
    expect(y.shape).toEqual([2, 7, 16]);
    expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
  });

  for (const impl of ['loop', 'chunked']) {
    it(`is causal: changing token j leaves logits before j unchanged (${impl})`, () => {
      const m = tinyHope({ selfModImpl: impl });
      const a = lcgIds(13, 16, 5);
      const b = a.slice();
      const j = 9;
      b[j] = (b[j]! + 3) % 16;
      const la = logitsOf(m, ids2d([a]));
      const lb = logitsOf(m, ids2d([b]));
      expect(maxAbsDiff(la.subarray(0, j * 16), lb.subarray(0, j * 16))).toBe(0);
      expect(maxAbsDiff(la.subarray(j * 16), lb.subarray(j * 16))).toBeGreaterThan(1e-6);
    });

    it(`streaming decoder rows == teacher-forced rows in float64, any pieces (${impl})`, () => {
      const m = tinyHope({ selfModImpl: impl });
      const seq = lcgIds(15, 16, 7);
      const ref = logitsOf(m, ids2d([seq]));
      for (const pieces of [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [3, 5, 7], [15]]) {
        const dec = m.decoder() as HopeDecoder;
        const got: number[] = [];
        let at = 0;
        for (const n of pieces) {
          const y = dec.step(Int32Array.from(seq.slice(at, at + n)));
          got.push(...y.dataSync());
          y.dispose();
          at += n;
        }
        expect(dec.position).toBe(15);
        expect(maxAbsDiff(ref, got)).toBeLessThan(1e-10);
        dec.dispose();
      }
    });
  }

  it('decoder.feed returns the last row; decoders and forward interleave without interference', () => {
    const m = tinyHope();
    const seq = lcgIds(10, 16, 11);
    const ref = logitsOf(m, ids2d([seq]));
    const d1 = m.decoder();
    const d2 = m.decoder();
    d1.feed(Int32Array.from(seq.slice(0, 4)));
    d2.feed(Int32Array.from(lcgIds(6, 16, 99))); // another stream in between
    logitsOf(m, ids2d([lcgIds(5, 16, 3)])); // and a forward
    const last = d1.feed(Int32Array.from(seq.slice(4)));
    expect(last).toBeInstanceOf(Float32Array);
    expect(maxAbsDiff(last, Float32Array.from(ref.subarray(9 * 16)))).toBeLessThan(1e-6);
    d1.dispose();
    d2.dispose();
    expect(() => d1.feed(Int32Array.from([1]))).toThrow(/disposed/);
  });

  it('with CMS levels that fire inside the sequence, decoding keeps CMS static (== forward)', () => {
    const m = tinyHope({ cmsLevels: [{ chunkSize: 4, lr: 0.5 }] });
    const seq = lcgIds(12, 16, 4);
    const ref = logitsOf(m, ids2d([seq]));
    const dec = m.decoder() as HopeDecoder;
    const y = dec.step(Int32Array.from(seq));
    expect(maxAbsDiff(ref, y.dataSync())).toBeLessThan(1e-10);
    // and the CMS schedule did not advance
    expect(dec.fastState.layers[0]!.cms.tokens).toBe(0);
    dec.dispose();
  });

  it('save → load into a differently seeded model → identical logits', () => {
    const a = tinyHope({ seed: 1 });
    const b = tinyHope({ seed: 2 });
    const x = ids2d([lcgIds(9, 16, 8)]);
    expect(maxAbsDiff(logitsOf(a, x), logitsOf(b, x))).toBeGreaterThan(1e-6);
    const bytes = io.save(null, a.stateDict());
    b.loadStateDict(io.load(bytes));
    expect(maxAbsDiff(logitsOf(a, x), logitsOf(b, x))).toBe(0);
  });

  it('is deterministic for a seed: same parameters, same loss and gradients', () => {
    const batch = ids2d([lcgIds(9, 16, 21), lcgIds(9, 16, 22)]);
    const run = () => {
      const m = tinyHope({ seed: 5 });
      const loss = m.lossAndBackward(batch);
      return { loss, g: m.parameters().map((p) => Array.from(p.grad!.dataSync())) };
    };
    const r1 = run();
    const r2 = run();
    expect(r1.loss).toBe(r2.loss);
    expect(r1.g).toEqual(r2.g);
  });

  it('is built by buildModel({ kind: "hope" }) and reports its parameter count', () => {
    const m = buildModel({ kind: 'hope', vocabSize: 16, dim: 8, layers: 1, heads: 2, cmsHidden: 8 });
    expect(m).toBeInstanceOf(HopeLM);
    expect(m.config.kind).toBe('hope');
    expect(m.numParameters()).toBe(m.parameters().reduce((s, p) => s + p.numel, 0));
  });

  it('rejects bad tokens with errors naming the problem', () => {
    const m = tinyHope();
    expect(() => m.forward(ids2d([[1, 2, 16]]))).toThrow(/16/);
    expect(() => m.lossAndBackward(ids2d([[1]]))).toThrow(/T\+1/);
    const dec = m.decoder();
    expect(() => dec.feed(Int32Array.from([-1]))).toThrow(/outside/);
    expect(() => dec.feed(new Int32Array(0))).toThrow(/non-empty/);
  });
});
