// The compared models are parameter-matched: every model built (not counted analytically) has
// within 2% of Transformer++'s parameters, at the same depth and width, at the default width and
// at an overridden one; 'hope-2l' keeps 2 layers and the same count; a family's model list adds
// the opt-in Hope variants when named.
import { describe, expect, it } from 'vitest';
import { buildModel } from '@nl/hope';
import {
  PARAM_MATCH_TOLERANCE,
  TITANS_CLIP_INNER_GRAD_CLIP,
  comparisonModels,
  familyModels,
  matchCmsHidden,
  selectModels,
} from '../src/tasks/models.js';

function built(config: Parameters<typeof buildModel>[0]): number {
  const m = buildModel(config);
  try {
    return m.numParameters();
  } finally {
    m.dispose();
  }
}

describe('comparisonModels', () => {
  for (const dim of [128, 64])
    it(`matches every model to Transformer++ within 2% (dim ${dim})`, () => {
      const models = comparisonModels(0, {
        overrides: { dim },
        withHope2l: true,
        withHopeLive: true,
        withHopeValueStream: true,
      });
      expect(models.map((m) => m.name)).toEqual([
        'transformer',
        'deltanet',
        'titans',
        'hope',
        'hope-2l',
        'hope-live',
        'hope-vs',
      ]);
      const counts = models.map((m) => built(m.config));
      const reference = counts[0]!;
      for (const [i, m] of models.entries()) {
        expect(Math.abs(counts[i]! - reference) / reference, m.name).toBeLessThanOrEqual(
          PARAM_MATCH_TOLERANCE,
        );
        expect(m.config.dim, m.name).toBe(dim);
        expect(m.config.layers, m.name).toBe(m.name === 'hope-2l' ? 2 : 4);
      }
      // hope-live: the headline Hope with the live memory init
      expect(models[5]!.config.memoryInitStd).toBeDefined();
      expect(models[5]!.config.cmsHidden).toBe(models[3]!.config.cmsHidden);
      // hope-vs: the headline Hope with the value stream (chunked impl), CMS narrowed to the same count
      const vs = models[6]!.config;
      expect([vs.valueStream, vs.selfModImpl, vs.etaBias]).toEqual([true, 'chunked', -2]);
      expect(models[6]!.config.cmsHidden as number).toBeLessThan(models[3]!.config.cmsHidden as number);
      // the matching moves the MLP / CMS width, nothing else
      expect(models[1]!.config.mlpHidden).not.toBe(models[0]!.config.mlpHidden);
      expect(models[4]!.config.cmsHidden as number).toBeGreaterThan(models[3]!.config.cmsHidden as number);
    }, 120_000);

  it('default set is the four headline models; selectModels names unknown ones', () => {
    const models = comparisonModels(1);
    expect(models.map((m) => m.name)).toEqual(['transformer', 'deltanet', 'titans', 'hope']);
    expect(models.every((m) => m.config.seed === 1)).toBe(true);
    expect(selectModels(models, ['hope']).map((m) => m.name)).toEqual(['hope']);
    expect(() => selectModels(models, ['hope', 'mamba'])).toThrow(/mamba/);
  });

  it("familyModels: the four by default; naming 'hope-live' / 'hope-vs' adds them, in order", () => {
    expect(familyModels(2, undefined).map((m) => m.name)).toEqual([
      'transformer',
      'deltanet',
      'titans',
      'hope',
    ]);
    const some = familyModels(2, ['hope-live', 'transformer']);
    expect(some.map((m) => m.name)).toEqual(['transformer', 'hope-live']);
    // hope-live is the same Hope (same count) with the live init, the clip and the fused kernel
    const hope = comparisonModels(2)[3]!.config;
    expect(some[1]!.config).toMatchObject({ ...hope, innerGradClip: 1, etaBias: -2.5, selfModImpl: 'fused' });
    expect(familyModels(2, ['hope-vs']).map((m) => m.name)).toEqual(['hope-vs']);
    expect(() => familyModels(2, ['hope-live', 'mamba'])).toThrow(/unknown model\(s\) mamba/);
    // titans-clip is Titans (same config, same count) with the memory's inner-gradient clip
    const [titans, clip] = familyModels(2, ['titans', 'titans-clip']);
    expect(clip!.name).toBe('titans-clip');
    expect(clip!.config).toEqual({ ...titans!.config, innerGradClip: TITANS_CLIP_INNER_GRAD_CLIP });
    expect(built(clip!.config)).toBe(built(titans!.config));
  });

  it('matchCmsHidden refuses a target below the smallest Hope', () => {
    const hope = comparisonModels(0)[3]!.config;
    expect(() => matchCmsHidden(hope, 1000)).toThrow(/cmsHidden 1/);
  });
});
