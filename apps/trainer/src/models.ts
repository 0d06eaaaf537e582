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
import { ConfigError } from './config.js';
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

/** A model name that is neither registered nor planned: a usage error (exit code 2). */
export class UnknownModelError extends ConfigError {
  override name = 'UnknownModelError';
}

/**
 * Look up a factory.
 * @throws UnknownModelError (exit 2) for a name that is neither registered nor planned, listing
 *   the available models once; ModelNotAvailableError (exit 1) for a planned model with no factory
 */
export function getModelFactory(name: string, registry: ModelRegistry = MODELS): ModelFactory {
  const f = Object.prototype.hasOwnProperty.call(registry, name) ? registry[name] : undefined;
  if (f) return f;
  const known = Object.keys(registry);
  const planned = PLANNED[name];
  if (planned) {
    const have = known.length ? `registered models: ${known.join(', ')}` : 'no model is registered yet';
    throw new ModelNotAvailableError(
      `model "${name}" is not available yet: it needs ${planned}, which is not implemented, and no factory is registered for it in apps/trainer/src/models.ts (${have})`,
    );
  }
  throw new UnknownModelError(
    known.length
      ? `unknown model "${name}"; available models: ${known.join(', ')}`
      : `unknown model "${name}"; no model is registered in apps/trainer/src/models.ts`,
  );
}
