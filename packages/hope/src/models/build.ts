/**
 * `buildModel(config)`: a LanguageModel from its JSON config, switching on `config.kind`.
 * Kinds register a constructor in one map (`registerModelKind`); the baselines register here,
 * HopeLM registers from the Hope side (see the marked spot below), so adding a kind never edits
 * this file. `countParameters(config)` gives a kind's analytic size without building it.
 * Unknown kinds and bad fields throw errors that name them.
 */
import type { LanguageModel, LMConfigBase, ModelKind } from './contract.js';
import {
  DeltaNetLM,
  deltaNetParamCount,
  resolveDeltaNetConfig,
  type DeltaNetConfigInput,
} from './deltanet.js';
import {
  TitansLM,
  resolveTitansLMConfig,
  titansLMParamCount,
  type TitansLMConfigInput,
} from './titans-lm.js';
import {
  TransformerLM,
  resolveTransformerConfig,
  transformerParamCount,
  type TransformerConfigInput,
} from './transformer.js';

/** A config as `buildModel` takes it: `kind` plus that kind's fields. */
export type ModelConfigInput = Pick<LMConfigBase, 'kind'> & Record<string, unknown>;

/** Builds one kind's model from its config (validation is the constructor's job). */
export type ModelConstructor = (config: ModelConfigInput) => LanguageModel;

/** Trainable scalars of a config of this kind, without allocating it (validates the config). */
export type ParamCounter = (config: ModelConfigInput) => number;

const registry = new Map<string, { build: ModelConstructor; count?: ParamCounter }>();

/**
 * Registers (or replaces) a model kind. HopeLM is registered by the Hope side, e.g.
 * `registerModelKind('hope', (c) => new HopeLM(c as HopeConfigInput), (c) => hopeParamCount(resolveHopeConfig(c)))`.
 */
export function registerModelKind(
  kind: ModelKind | string,
  build: ModelConstructor,
  count?: ParamCounter,
): void {
  if (typeof kind !== 'string' || kind === '')
    throw new Error('registerModelKind: kind must be a non-empty string');
  if (typeof build !== 'function') throw new Error(`registerModelKind('${kind}'): build must be a function`);
  registry.set(kind, { build, count });
}

/** Kinds that `buildModel` can build right now. */
export function modelKinds(): string[] {
  return [...registry.keys()];
}

registerModelKind(
  'transformer',
  (c) => new TransformerLM(c as unknown as TransformerConfigInput),
  (c) => transformerParamCount(resolveTransformerConfig(c as unknown as TransformerConfigInput)),
);
registerModelKind(
  'deltanet',
  (c) => new DeltaNetLM(c as unknown as DeltaNetConfigInput),
  (c) => deltaNetParamCount(resolveDeltaNetConfig(c as unknown as DeltaNetConfigInput)),
);
registerModelKind(
  'titans',
  (c) => new TitansLM(c as unknown as TitansLMConfigInput),
  (c) => titansLMParamCount(resolveTitansLMConfig(c as unknown as TitansLMConfigInput)),
);
// ── 'hope': registered by the Hope side with registerModelKind('hope', ...) (not in this file). ──

function entry(label: string, config: ModelConfigInput) {
  if (config === null || typeof config !== 'object' || Array.isArray(config))
    throw new Error(`${label}: config must be an object, got ${JSON.stringify(config)}`);
  const kind = config.kind;
  const e = typeof kind === 'string' ? registry.get(kind) : undefined;
  if (e === undefined)
    throw new Error(
      `${label}: unknown model kind ${JSON.stringify(kind)} (known: ${modelKinds().join(', ')})`,
    );
  return e;
}

/**
 * A model from its config: `{ kind: 'transformer' | 'deltanet' | 'titans' | 'hope', ...fields }`.
 * @throws Error naming an unknown kind (and the known ones), or the bad field
 */
export function buildModel(config: ModelConfigInput): LanguageModel {
  return entry('buildModel', config).build(config);
}

/** Trainable scalars of the model `config` describes, without building it. */
export function countParameters(config: ModelConfigInput): number {
  const e = entry('countParameters', config);
  if (e.count === undefined) throw new Error(`countParameters: kind '${config.kind}' registered no counter`);
  return e.count(config);
}
