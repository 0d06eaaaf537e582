/**
 * The model registry: preset name → factory. Every @nl/hope model goes through one generic
 * adapter (factories/language-model.ts: the model plus its outer optimizer) and one preset
 * config (factories/presets.ts); wiring a new model is one preset entry, e.g.
 *
 *   'titans-tiny': { kind: 'titans', config: () => preset('titans', 'tiny') },
 *
 * Names in PLANNED wait for a model kind @nl/hope does not build yet; asking for one stops with a
 * message naming what is missing.
 */
import { buildModel, modelKinds, type SavedModelConfig } from '@nl/hope';
import { languageModelFactory } from './factories/language-model.js';
import { PRESETS } from './factories/presets.js';
import type { ModelFactory, ModelRegistry } from './model-api.js';

/** A factory building preset `name` with the trainer's vocabulary size and seed. */
export function presetFactory(name: string): ModelFactory {
  const preset = PRESETS[name];
  if (!preset) throw new Error(`no preset named "${name}"`);
  return languageModelFactory(
    (ctx) =>
      ({
        ...preset.config(),
        vocabSize: ctx.vocabSize,
        seed: ctx.config.seed,
      }) as unknown as SavedModelConfig,
    (config) => buildModel(config),
  );
}

/** Presets that are planned but not yet implemented, with what they wait for. */
const PLANNED: Readonly<Record<string, string>> = {
  'hope-tiny': 'HopeLM from @nl/hope (the tiny CPU preset)',
  'transformer-tiny': 'TransformerLM (Transformer++) from @nl/hope',
  'titans-tiny': 'TitansLM from @nl/hope',
  'deltanet-tiny': 'the gated-DeltaNet LM from @nl/hope',
};

/** The models nl-train can build: every preset whose kind @nl/hope builds. */
export const MODELS: ModelRegistry = Object.fromEntries(
  Object.entries(PRESETS)
    .filter(([, p]) => modelKinds().includes(p.kind))
    .map(([name]) => [name, presetFactory(name)]),
);

/** A model name with no factory; the CLI exits with code 1. */
export class ModelNotAvailableError extends Error {
  override name = 'ModelNotAvailableError';
}

/**
 * Look up a factory.
 * @throws ModelNotAvailableError naming the missing implementation and the registered names
 */
export function getModelFactory(name: string, registry: ModelRegistry = MODELS): ModelFactory {
  const f = Object.prototype.hasOwnProperty.call(registry, name) ? registry[name] : undefined;
  if (f) return f;
  const known = Object.keys(registry);
  const have = known.length ? `registered models: ${known.join(', ')}` : 'no model is registered yet';
  const planned = PLANNED[name];
  throw new ModelNotAvailableError(
    planned
      ? `model "${name}" is not available yet: it needs ${planned}, which is not implemented, and no factory is registered for it in apps/trainer/src/models.ts (${have})`
      : `unknown model "${name}" (${have}; planned: ${Object.keys(PLANNED).join(', ')})`,
  );
}
