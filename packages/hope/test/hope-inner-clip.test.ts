/**
 * HopeLM's `innerGradClip` (SelfModifyingConfig.innerGradClip; issue 16): config (off by default and
 * absent from the resolved config, every selfModImpl, refusals naming it), it reaches every layer's memories (the
 * outputs change, 'loop' == 'chunked' == 'fused' with it, float64, the loss and gradients of 'fused'
 * and 'chunked' too), a training step stays finite where an
 * unclipped live-init model overflows, the fused decoder runs the clip (== forward). The ONNX
 * export reproduces it (onnx-hope.test.ts).
 */
import { tensor } from '@nl/tensor';
import { describe, expect, it } from 'vitest';
import { HopeLM, type HopeConfigInput } from '../src/models/hope-index.js';
import { resolveHopeConfig } from '../src/models/hope-config.js';
import { HopeDecoder } from '../src/models/hope-decoder.js';
import { forwardRows, maxDiff } from './models-helpers.js';
import { hostIds, stepRows } from './decode-helpers.js';
import { VALUE_STREAM_SMALL } from './hope-helpers.js';

const SMALL: HopeConfigInput = { ...VALUE_STREAM_SMALL, innerGradClip: 0.05 };
const ids = (n: number, seed: number): Int32Array => hostIds(n, seed, SMALL.vocabSize);

describe('HopeLM innerGradClip', () => {
  it('config: off by default and absent from the resolved config; a value kept; refusals name it', () => {
    const base = { vocabSize: 8, dim: 8, layers: 1, heads: 2 };
    expect('innerGradClip' in resolveHopeConfig(base)).toBe(false);
    expect('innerGradClip' in resolveHopeConfig({ ...base, innerGradClip: 0 })).toBe(false);
    expect(resolveHopeConfig({ ...base, innerGradClip: 2, selfModImpl: 'chunked' }).innerGradClip).toBe(2);
    for (const bad of [-1, Number.NaN, '1'])
      expect(() => resolveHopeConfig({ ...base, innerGradClip: bad as number })).toThrow(
        /innerGradClip must be a finite number >= 0 \(0 = off\), got/,
      );
    expect(resolveHopeConfig({ ...base, innerGradClip: 1, selfModImpl: 'fused' }).innerGradClip).toBe(1);
  });

  it("reaches every layer: outputs change; 'loop' == 'chunked' with it (float64)", () => {
    const x = ids(30, 2);
    const loop = forwardRows(new HopeLM({ ...SMALL, selfModImpl: 'loop' }), x);
    const chunked = forwardRows(new HopeLM({ ...SMALL, selfModImpl: 'chunked' }), x);
    const off = forwardRows(new HopeLM({ ...SMALL, selfModImpl: 'chunked', innerGradClip: 0 }), x);
    expect(maxDiff(chunked, loop)).toBeLessThan(1e-10);
    expect(maxDiff(chunked, off)).toBeGreaterThan(1e-6);
  });

  it("'fused' == 'chunked' with it (float64): forward rows, a lossAndBackward's loss and every gradient", () => {
    const x = ids(30, 3);
    const fused = forwardRows(new HopeLM({ ...SMALL, selfModImpl: 'fused' }), x);
    const chunked = forwardRows(new HopeLM({ ...SMALL, selfModImpl: 'chunked' }), x);
    const off = forwardRows(new HopeLM({ ...SMALL, selfModImpl: 'fused', innerGradClip: 0 }), x);
    expect(maxDiff(fused, chunked)).toBeLessThan(1e-10);
    expect(maxDiff(fused, off), 'the clip acts').toBeGreaterThan(1e-6);
    const batch = tensor(Array.from(ids(41, 5)), { shape: [1, 41], dtype: 'int32' });
    const [mf, mc] = (['fused', 'chunked'] as const).map((i) => new HopeLM({ ...SMALL, selfModImpl: i }));
    const [lf, lc] = [mf!.lossAndBackward(batch), mc!.lossAndBackward(batch)];
    expect(Math.abs(lf - lc)).toBeLessThan(1e-10);
    const gc = new Map(mc!.namedParameters());
    let compared = 0;
    for (const [n, p] of mf!.namedParameters()) {
      const q = gc.get(n)!;
      if (p.grad === null) {
        expect(q.grad, n).toBeNull();
        continue;
      }
      expect(maxDiff(p.grad.dataSync(), q.grad!.dataSync()), n).toBeLessThan(1e-9);
      compared++;
    }
    expect(compared).toBeGreaterThan(0);
  });

  it('a training step at a live init: finite with the clip, non-finite without', () => {
    const live = { w1: 1, w2: 3 };
    const cfg: HopeConfigInput = {
      ...SMALL,
      selfModImpl: 'chunked',
      etaBias: 2,
      chunkMem: 4,
      chunkOther: 4,
      memoryInitStd: { k: live, v: live, eta: live, alpha: live, mem: live },
    };
    const batch = tensor(Array.from(ids(97, 4)), { shape: [1, 97], dtype: 'int32' });
    const clipped = new HopeLM({ ...cfg, innerGradClip: 1 });
    expect(Number.isFinite(clipped.lossAndBackward(batch))).toBe(true);
    for (const [n, p] of clipped.namedParameters())
      expect(p.grad!.dataSync().every(Number.isFinite), n).toBe(true);
    const unclipped = new HopeLM({ ...cfg, innerGradClip: 0 });
    expect(Number.isFinite(unclipped.lossAndBackward(batch))).toBe(false);
  });

  it('the fused decoder runs the clip (== forward, float32; not the unclipped forward)', () => {
    const x = ids(24, 6);
    for (const selfModImpl of ['chunked', 'fused'] as const) {
      const cfg = {
        ...SMALL,
        valueStream: false,
        dtype: 'float32' as const,
        selfModImpl,
        innerGradClip: 0.01,
      };
      const d = new HopeLM(cfg);
      const dec = new HopeDecoder(d, undefined, { fused: true });
      expect(dec.fusedNext).toBe(true);
      const got = Float64Array.from(stepRows(dec, x, [5, 7, 1, 11])); // crosses chunkMem 8, chunkOther 3
      const err = maxDiff(got, forwardRows(d, x));
      expect(err, selfModImpl).toBeLessThan(1e-5);
      // the unclipped model's logits lie ≥ 20× farther: the decoder's writes are the clipped ones
      const off = new HopeLM({ ...cfg, innerGradClip: 0 });
      expect(maxDiff(got, forwardRows(off, x)), `${selfModImpl}: the clip acts`).toBeGreaterThan(
        Math.max(20 * err, 1e-4),
      );
      dec.dispose();
    }
  });
});
