/**
 * The model presets nl-train registers, as @nl/hope model configs (without `vocabSize` and
 * `seed`, which come from the tokenizer and the trainer config). The tiny presets are sized for a
 * 2-core CPU: `pnpm train` must reach ≤ 2.2 validation bits per byte on SOTU within 10 minutes.
 */
import type { LMConfigBase } from '@nl/hope';

/** A preset: a model config minus the fields the trainer fills in. */
export type Preset = Pick<LMConfigBase, 'kind' | 'dim' | 'layers' | 'heads'> & Record<string, unknown>;

/** Preset name → model config. */
export const PRESETS: Readonly<Record<string, Preset>> = {
  'transformer-tiny': { kind: 'transformer', dim: 128, layers: 4, heads: 4 },
};
