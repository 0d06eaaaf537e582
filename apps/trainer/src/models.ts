/**
 * The model registry: preset name → factory. Wiring a model into nl-train is one entry here, e.g.
 *
 *   import { hopeFactory } from './factories/hope.js';
 *   export const MODELS: ModelRegistry = { 'hope-tiny': hopeFactory('tiny'), ... };
 *
 * Until @nl/hope exports HopeLM (built on @nl/tensor, @nl/optim, @nl/memory), the registry is
 * empty and `nl-train train` stops with a message naming what is missing.
 */
import type { ModelFactory, ModelRegistry } from './model-api.js';

/** The models nl-train can build. Empty until HopeLM and the baselines exist. */
export const MODELS: ModelRegistry = {};

/** Presets that are planned but not yet implemented, with what they wait for. */
const PLANNED: Readonly<Record<string, string>> = {
  'hope-tiny': 'HopeLM from @nl/hope (the tiny CPU preset)',
  'transformer-tiny': 'TransformerLM (Transformer++) from @nl/hope',
  'titans-tiny': 'TitansLM from @nl/hope',
  'deltanet-tiny': 'the gated-DeltaNet LM from @nl/hope',
};

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
