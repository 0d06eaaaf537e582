/**
 * The models every task compares: Transformer++, gated DeltaNet, Titans and Hope with the byte
 * vocabulary, at equal depth and width and equal parameter counts (issue 16's protocol, the
 * paper's: parameters matched through the MLP / CMS width). The reference is Transformer++ tiny
 * (4 layers, d 128, SwiGLU width round(8d/3)); DeltaNet and Titans get the `mlpHidden`, Hope the
 * `cmsHidden`, that bring their count closest to it. The headline Hope has the baselines' 4
 * layers; 'hope-2l' (opt-in) is the 2-layer `hope-tiny` shape, its CMS widened to the same count;
 * 'hope-vs' (opt-in) the headline Hope with the value stream (`valueStream`, selfModImpl 'chunked',
 * etaBias −2, innerGradClip 1), its CMS narrowed to the same count.
 */
import {
  HOPE_LIVE_MEMORY_INIT,
  countParameters,
  hopeParamCount,
  hopePreset,
  matchMlpHidden,
  preset,
  resolveHopeConfig,
  type HopeConfigInput,
  type ModelConfigInput,
} from '@nl/hope';
import type { TaskModel } from './types.js';

/** Options of the comparison. */
export interface ComparisonOptions {
  /** Overrides applied to every model's config before matching (e.g. `dim`, a shorter chunk). */
  overrides?: Partial<Record<string, unknown>>;
  /** Also return 'hope-2l' (2-layer Hope, CMS width matched to the same count). */
  withHope2l?: boolean;
  /**
   * Also return 'hope-live': the headline Hope with the live memory init and its inner-gradient clip
   * (HOPE_LIVE_MEMORY_INIT), selfModImpl 'fused'.
   */
  withHopeLive?: boolean;
  /**
   * Also return 'hope-vs': the headline Hope with a separate value stream for the v generator
   * (`valueStream: true`, selfModImpl 'chunked' as measured; 'fused' has it on the CPU too) and etaBias −2
   * (the measured setting: MQAR, 1,500 steps, hope-tiny: 99.0% / 92.2% (seeds 1 / 0) with the value
   * stream at −2, 10.2% / 6.3% without it; seed 1 at the preset's −4: 12.2%), cmsHidden
   * re-matched to the same count (packages/hope README "The value stream").
   */
  withHopeValueStream?: boolean;
  /**
   * Also return 'titans-clip': Titans with its memory's inner-gradient clip (TitansLM
   * `innerGradClip` = TITANS_CLIP_INNER_GRAD_CLIP), the same parameters as 'titans'.
   */
  withTitansClip?: boolean;
  /** Layers of every model but 'hope-2l' (default the tiny presets' 4). */
  layers?: number;
}

/**
 * 'hope-vs''s inner-gradient clip (HopeConfig.innerGradClip). Without it MQAR `--budget long`
 * diverged on all 3 seeds (2026-12-07): the fast weights grew ~30× per chunk and overflowed inside
 * one 47-token sequence at step 260; with it the same seed trained past step 600 (apps/bench
 * README "Why hope-vs diverged").
 */
export const HOPE_VS_INNER_GRAD_CLIP = 1;

/**
 * 'titans-clip''s inner-gradient clip: Hope-live's c (HOPE_LIVE_MEMORY_INIT). Without a clip d 64
 * Titans diverged to NaN on 256-byte training windows (continual --budget long, 2026-12-07, 2 of 3
 * seeds) and on formal inputs longer than trained (formal --budget long).
 */
export const TITANS_CLIP_INNER_GRAD_CLIP = 1;

/** Largest relative gap between a model's parameter count and the reference's that the matching allows. */
export const PARAM_MATCH_TOLERANCE = 0.02;

/**
 * `config` (a Hope config) with the `cmsHidden` whose parameter count comes closest to `target`
 * (the count is linear in cmsHidden). Throws when even cmsHidden = 1 exceeds the target.
 */
export function matchCmsHidden(config: ModelConfigInput, target: number): ModelConfigInput {
  const at = (h: number): number =>
    hopeParamCount(resolveHopeConfig({ ...config, cmsHidden: h } as unknown as HopeConfigInput));
  const slope = at(2) - at(1);
  const h = Math.round((target - at(1)) / slope) + 1;
  if (h < 1) throw new Error(`matchCmsHidden: Hope exceeds ${target} parameters even with cmsHidden 1`);
  return { ...config, cmsHidden: h };
}

/**
 * The compared models, parameter-matched to Transformer++ of the same shape:
 * [transformer, deltanet, titans, hope] (+ 'hope-2l' with `withHope2l`).
 */
export function comparisonModels(seed: number, opts: ComparisonOptions = {}): TaskModel[] {
  const base = {
    vocabSize: 256,
    seed,
    ...(opts.layers === undefined ? {} : { layers: opts.layers }),
    ...(opts.overrides ?? {}),
  };
  const transformer = preset('transformer', 'tiny', base);
  const target = countParameters(transformer);
  const hope = (layers: number | undefined): ModelConfigInput =>
    matchCmsHidden(
      hopePreset('hope-tiny', { ...base, ...(layers === undefined ? {} : { layers }) }) as ModelConfigInput,
      target,
    );
  const models: TaskModel[] = [
    { name: 'transformer', config: transformer },
    { name: 'deltanet', config: matchMlpHidden(preset('deltanet', 'tiny', base), target) },
    { name: 'titans', config: matchMlpHidden(preset('titans', 'tiny', base), target) },
    { name: 'hope', config: hope(transformer.layers as number) },
  ];
  if (opts.withTitansClip === true)
    models.push({
      name: 'titans-clip',
      config: { ...models[2]!.config, innerGradClip: TITANS_CLIP_INNER_GRAD_CLIP } as ModelConfigInput,
    });
  if (opts.withHope2l === true) models.push({ name: 'hope-2l', config: hope(2) });
  if (opts.withHopeLive === true)
    models.push({
      name: 'hope-live',
      // 'fused' (the native kernel, clip included): the same maths as 'chunked', 3.7× faster here
      // (40 MQAR steps at d 64: 4 s against 15 s); MQAR's hope-live rows before 2026-12-07 07:00 ran 'chunked'
      config: {
        ...hope(transformer.layers as number),
        ...HOPE_LIVE_MEMORY_INIT,
        selfModImpl: 'fused',
      } as ModelConfigInput,
    });
  if (opts.withHopeValueStream === true) {
    const vs = {
      ...hope(transformer.layers as number),
      valueStream: true,
      selfModImpl: 'chunked',
      etaBias: -2,
      innerGradClip: HOPE_VS_INNER_GRAD_CLIP,
    };
    models.push({ name: 'hope-vs', config: matchCmsHidden(vs as ModelConfigInput, target) });
  }
  return models;
}

/**
 * The models a family runs at `seed`: the four compared models, or those named in `names`, where
 * naming 'hope-live', 'hope-vs' or 'titans-clip' adds those opt-in variants (throws naming unknown
 * names).
 */
export function familyModels(
  seed: number,
  names: string[] | undefined,
  opts: Omit<ComparisonOptions, 'withHopeLive' | 'withHopeValueStream' | 'withTitansClip'> = {},
): TaskModel[] {
  return selectModels(
    comparisonModels(seed, {
      ...opts,
      withHopeLive: names?.includes('hope-live') === true,
      withHopeValueStream: names?.includes('hope-vs') === true,
      withTitansClip: names?.includes('titans-clip') === true,
    }),
    names,
  );
}

/** Keeps the models named in `names` (all when undefined); throws naming unknown names. */
export function selectModels(models: TaskModel[], names: string[] | undefined): TaskModel[] {
  if (names === undefined) return models;
  const unknown = names.filter((n) => !models.some((m) => m.name === n));
  if (unknown.length > 0)
    throw new RangeError(
      `unknown model(s) ${unknown.join(', ')}; available: ${models.map((m) => m.name).join(', ')}`,
    );
  return models.filter((m) => names.includes(m.name));
}
