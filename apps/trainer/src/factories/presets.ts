/**
 * The model presets nl-train registers, built on @nl/hope's presets; the trainer fills in
 * `vocabSize` (from the tokenizer) and `seed` (from its config).
 *
 *   hope-tiny         @nl/hope's `hope-tiny` (2 Hope blocks, d = 128), sized for a 2-core CPU:
 *                     `pnpm train` must reach ≤ 2.2 validation bits per byte on SOTU in 10 minutes
 *   hope-tiny-live    hope-tiny with HOPE_LIVE_MEMORY_INIT (live self-modifying memories at init,
 *                     inner-gradient clip 1; issue 16): the same parameters, another init
 *   transformer-tiny  the `tiny` preset of each baseline kind (4 blocks, d = 128, 4 heads) with the
 *   titans-tiny       SwiGLU width `mlpHidden` chosen so the parameter count matches hope-tiny's
 *   deltanet-tiny     (within 1%): `nl-train compare` then compares models of equal size
 */
import {
  HOPE_LIVE_MEMORY_INIT,
  countParameters,
  hopeParamCount,
  hopePreset,
  preset,
  resolveHopeConfig,
  type HopeConfigInput,
  type ModelConfigInput,
} from '@nl/hope';

/** A trainer preset: the model kind and its config. */
export interface Preset {
  kind: string;
  config: () => ModelConfigInput;
}

const VOCAB = 256;

/** Parameters of hope-tiny at the byte vocabulary. */
export function hopeTinyParams(): number {
  return hopeParamCount(
    resolveHopeConfig({ ...hopePreset('hope-tiny'), vocabSize: VOCAB } as HopeConfigInput),
  );
}

/**
 * `base` with the `mlpHidden` (SwiGLU width) whose parameter count is closest to `target`.
 * @throws Error when even the narrowest MLP has more parameters than `target`
 */
export function matchMlpHidden(base: ModelConfigInput, target: number): ModelConfigInput {
  const count = (h: number) => countParameters({ ...base, vocabSize: VOCAB, mlpHidden: h });
  let lo = 1;
  let hi = 16 * Number(base.dim);
  if (count(lo) > target)
    throw new Error(`matchMlpHidden: ${base.kind} has more than ${target} parameters even with mlpHidden 1`);
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (count(mid) <= target) lo = mid;
    else hi = mid;
  }
  const best = Math.abs(count(lo) - target) <= Math.abs(count(hi) - target) ? lo : hi;
  return { ...base, mlpHidden: best };
}

const matched = (kind: string): Preset => ({
  kind,
  config: () => matchMlpHidden(preset(kind, 'tiny'), hopeTinyParams()),
});

/** Preset name → model config. */
export const PRESETS: Readonly<Record<string, Preset>> = {
  'hope-tiny': { kind: 'hope', config: () => hopePreset('hope-tiny') as ModelConfigInput },
  'hope-tiny-live': {
    kind: 'hope',
    config: () => hopePreset('hope-tiny', HOPE_LIVE_MEMORY_INIT) as ModelConfigInput,
  },
  'transformer-tiny': matched('transformer'),
  'titans-tiny': matched('titans'),
  'deltanet-tiny': matched('deltanet'),
};
