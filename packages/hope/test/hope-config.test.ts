/**
 * HopeLM config: defaults, errors that name the bad field, the analytic parameter count against
 * real models, and the paper-scale presets param-matched to Transformer++ (analytic only: they
 * are not built on CPU).
 */
import { describe, expect, it } from 'vitest';
import { HopeLM } from '../src/models/hope.js';
import {
  hopeParamCount,
  resolveHopeConfig,
  transformerPPParamCount,
  type HopeConfigInput,
} from '../src/models/hope-config.js';
import { HOPE_PRESETS, hopePreset } from '../src/models/hope-presets.js';
import { resolveTransformerConfig, transformerParamCount } from '../src/models/transformer.js';

const base: HopeConfigInput = { vocabSize: 16, dim: 8, layers: 1, heads: 2 };

describe('HopeLM config', () => {
  it('fills every default and keeps the sizes', () => {
    const c = resolveHopeConfig(base);
    expect(c).toMatchObject({ kind: 'hope', vocabSize: 16, dim: 8, layers: 1, heads: 2 });
    expect(c.memoryHidden).toBe(4); // the head dim
    expect(c.cmsHidden).toBe(32); // 4 · dim
    expect(c.selfModImpl).toBe('loop');
    expect(c.trainGrad).toBe('full');
  });

  it.each([
    [{ dim: 10, heads: 4 }, /dim \(10\) must be divisible by heads \(4\)/],
    [{ layers: 0 }, /layers must be a positive integer, got 0/],
    [{ chunkMem: 1.5 }, /chunkMem must be a positive integer/],
    [{ chunkOther: -1 }, /chunkOther must be a positive integer/],
    [{ momentum: 1 }, /momentum must be in \[0, 1\)/],
    [{ cmsLevels: [] }, /cmsLevels must be a non-empty array/],
    [{ cmsLevels: [{ chunkSize: 0, lr: 1 }] }, /cmsLevels\[0\]\.chunkSize must be a positive integer/],
    [{ cmsLevels: [{ chunkSize: 4, lr: Number.NaN }] }, /cmsLevels\[0\]\.lr must be a finite number/],
    [{ dtype: 'float16' }, /dtype must be 'float32' or 'float64'/],
    [{ trainGrad: 'bptt' }, /trainGrad must be 'full' or 'truncated'/],
    [{ etaBias: Number.POSITIVE_INFINITY }, /etaBias must be a finite number/],
    [{ kind: 'transformer' }, /kind must be 'hope'/],
    [{ heads: 2, extra: 1 }, /unknown field 'extra'/],
  ])('rejects %j', (over, re) => {
    expect(() => resolveHopeConfig({ ...base, ...(over as object) } as HopeConfigInput)).toThrow(re);
    expect(() => new HopeLM({ ...base, ...(over as object) } as HopeConfigInput)).toThrow(/HopeLM config/);
  });

  it("names an unsupported selfModImpl (checked by the memory module's own list)", () => {
    expect(() => new HopeLM({ ...base, selfModImpl: 'warp' })).toThrow(/warp/);
  });

  it('hopeParamCount == numParameters of built models (untied and tied)', () => {
    for (const over of [
      {},
      { tieEmbeddings: true },
      { layers: 3, heads: 4, memoryHidden: 6, cmsHidden: 12, cmsLevels: [{ chunkSize: 4, lr: 0 }] },
    ]) {
      const m = new HopeLM({ ...base, ...over });
      expect(hopeParamCount(m.config)).toBe(m.numParameters());
    }
  });

  it('transformerPPParamCount agrees with the TransformerLM implementation', () => {
    const c = resolveTransformerConfig({ vocabSize: 256, dim: 64, layers: 2, heads: 4 });
    expect(transformerPPParamCount(256, 64, 2)).toBe(transformerParamCount(c));
  });

  it('paper-scale presets are within 0.5% of Transformer++ of the same width and depth', () => {
    for (const name of ['hope-340m', 'hope-760m', 'hope-1.3b']) {
      const c = resolveHopeConfig(HOPE_PRESETS[name]!);
      const hope = hopeParamCount(c);
      const tpp = transformerPPParamCount(c.vocabSize, c.dim, c.layers);
      expect(Math.abs(hope - tpp) / tpp, name).toBeLessThan(0.005);
      expect(c.cmsLevels.map((l) => l.chunkSize)).toEqual([32, 128, 512, 2048]);
    }
    expect(hopeParamCount(resolveHopeConfig(HOPE_PRESETS['hope-340m']!))).toBeGreaterThan(3e8);
  });

  it('hopePreset applies overrides and names unknown presets', () => {
    expect(resolveHopeConfig(hopePreset('hope-tiny', { seed: 9 })).seed).toBe(9);
    expect(() => hopePreset('hope-huge')).toThrow(/unknown Hope preset 'hope-huge' \(known: hope-tiny/);
  });
});
