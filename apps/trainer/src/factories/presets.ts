/**
 * The model presets nl-train registers: each names a @nl/hope model config (its `tiny` preset
 * per kind); the trainer fills in `vocabSize` (from the tokenizer) and `seed` (from its config).
 * The tiny presets are sized for a 2-core CPU: `pnpm train` must reach ≤ 2.2 validation bits per
 * byte on SOTU within 10 minutes.
 */
import { hopePreset, preset, type ModelConfigInput } from '@nl/hope';

/** A trainer preset: the model kind and its config. */
export interface Preset {
  kind: string;
  config: () => ModelConfigInput;
}

/** Preset name → model config. */
export const PRESETS: Readonly<Record<string, Preset>> = {
  'hope-tiny': { kind: 'hope', config: () => hopePreset('hope-tiny') as ModelConfigInput },
  'transformer-tiny': { kind: 'transformer', config: () => preset('transformer', 'tiny') },
  'titans-tiny': { kind: 'titans', config: () => preset('titans', 'tiny') },
  'deltanet-tiny': { kind: 'deltanet', config: () => preset('deltanet', 'tiny') },
};
