/**
 * The models every task compares: Transformer++, gated DeltaNet, Titans and Hope with the byte
 * vocabulary, built from the tiny presets. (Parameter matching across the four is refined here;
 * every family takes its models from this one place.)
 */
import { hopePreset, preset, type ModelConfigInput } from '@nl/hope';
import type { TaskModel } from './types.js';

/** Options of the comparison. */
export interface ComparisonOptions {
  /** Overrides applied to every model's config (e.g. a shorter chunk, dim). */
  overrides?: Partial<Record<string, unknown>>;
}

/** The tiny preset of each model kind, with the byte vocabulary and the seed. */
export function comparisonModels(seed: number, opts: ComparisonOptions = {}): TaskModel[] {
  const base = { vocabSize: 256, seed, ...(opts.overrides ?? {}) };
  return [
    { name: 'transformer', config: preset('transformer', 'tiny', base) },
    { name: 'deltanet', config: preset('deltanet', 'tiny', base) },
    { name: 'titans', config: preset('titans', 'tiny', base) },
    { name: 'hope', config: hopePreset('hope-tiny', base) as ModelConfigInput },
  ];
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
