/**
 * `buildModel(config)`: a LanguageModel from its JSON config, switching on `config.kind`.
 * Kinds register a constructor in one map (`registerModelKind`); the baselines register here,
 * HopeLM registers from hope.ts's side (see the marked spot below), so adding a kind never
 * edits this switch. Unknown kinds and bad fields throw errors that name them.
 */
import type { LanguageModel, LMConfigBase, ModelKind } from './contract.js';
import { TransformerLM, type TransformerConfigInput } from './transformer.js';

/** A config as `buildModel` takes it: `kind` plus that kind's fields. */
export type ModelConfigInput = Pick<LMConfigBase, 'kind'> & Record<string, unknown>;

/** Builds one kind's model from its config (validation is the constructor's job). */
export type ModelConstructor = (config: ModelConfigInput) => LanguageModel;

const registry = new Map<string, ModelConstructor>();

/**
 * Registers (or replaces) the constructor of a model kind. HopeLM is registered here by the
 * Hope side: `registerModelKind('hope', (c) => new HopeLM(c as HopeConfigInput))`.
 */
export function registerModelKind(kind: ModelKind | string, ctor: ModelConstructor): void {
  if (typeof kind !== 'string' || kind === '')
    throw new Error('registerModelKind: kind must be a non-empty string');
  if (typeof ctor !== 'function') throw new Error(`registerModelKind('${kind}'): ctor must be a function`);
  registry.set(kind, ctor);
}

/** Kinds that `buildModel` can build right now. */
export function modelKinds(): string[] {
  return [...registry.keys()];
}

registerModelKind('transformer', (c) => new TransformerLM(c as unknown as TransformerConfigInput));
// ── 'hope': registered by the Hope helper's code (registerModelKind('hope', ...)). ──

/**
 * A model from its config: `{ kind: 'transformer' | 'deltanet' | 'titans' | 'hope', ...fields }`.
 * @throws Error naming an unknown kind (and the known ones), or the bad field
 */
export function buildModel(config: ModelConfigInput): LanguageModel {
  if (config === null || typeof config !== 'object' || Array.isArray(config))
    throw new Error(`buildModel: config must be an object, got ${JSON.stringify(config)}`);
  const kind = config.kind;
  const ctor = typeof kind === 'string' ? registry.get(kind) : undefined;
  if (ctor === undefined)
    throw new Error(
      `buildModel: unknown model kind ${JSON.stringify(kind)} (known: ${modelKinds().join(', ')})`,
    );
  return ctor(config);
}
