/**
 * Model presets per kind.
 *
 *   tiny   byte-level (V = 256), d = 128, 4 layers, 4 heads: trains on a 2-core CPU.
 *   340M / 760M / 1.3B   the paper scales (nested-learning.md §6.3). The paper publishes no layer
 *          counts or widths; these follow the FLA / Titans lineage all its baselines use [D]:
 *          24 layers, d = 1024 / 1536 / 2048, head dim 64, vocab 32K (Llama-2 tokenizer size).
 *          They construct like any config (`buildModel(preset(...))`) but are far too big to
 *          train on a CPU; `countParameters` gives their size without allocating them. As in the
 *          paper's protocol, the recurrent baselines are param-matched to Transformer++ of the
 *          same shape by shrinking their MLP width (`matchMlpHidden`). The tiny presets share
 *          one shape and are not matched (recurrent mixers have 5d² projections vs 4d²).
 *
 * `registerPresets(kind, presets)` adds or replaces a kind's presets (the Hope side adds 'hope').
 */
import { countParameters, type ModelConfigInput } from './build.js';

/** Names of the built-in presets. */
export type PresetName = 'tiny' | '340M' | '760M' | '1.3B';

const PAPER_VOCAB = 32000;

/** The shape of each paper scale (shared by every baseline kind). */
export const PAPER_SHAPES: Record<
  Exclude<PresetName, 'tiny'>,
  { dim: number; layers: number; heads: number }
> = {
  '340M': { dim: 1024, layers: 24, heads: 16 },
  '760M': { dim: 1536, layers: 24, heads: 24 },
  '1.3B': { dim: 2048, layers: 24, heads: 32 },
};

const TINY = { vocabSize: 256, dim: 128, layers: 4, heads: 4 };

/**
 * `config` with the `mlpHidden` whose parameter count comes closest to `target` (the count is
 * linear in mlpHidden: 3·dim·layers per unit).
 * @throws Error when even mlpHidden = 1 exceeds the target
 */
export function matchMlpHidden(config: ModelConfigInput, target: number): ModelConfigInput {
  const at = (h: number): number => countParameters({ ...config, mlpHidden: h });
  const slope = at(2) - at(1);
  const h = Math.round((target - at(1)) / slope) + 1;
  if (h < 1)
    throw new Error(`matchMlpHidden: ${config.kind} exceeds ${target} parameters even with mlpHidden 1`);
  return { ...config, mlpHidden: h };
}

function baselinePresets(kind: 'transformer' | 'deltanet' | 'titans'): Record<string, ModelConfigInput> {
  const out: Record<string, ModelConfigInput> = { tiny: { kind, ...TINY } };
  for (const [name, shape] of Object.entries(PAPER_SHAPES)) {
    const c: ModelConfigInput = { kind, vocabSize: PAPER_VOCAB, ...shape };
    const reference = countParameters({ ...c, kind: 'transformer' });
    out[name] = kind === 'transformer' ? c : matchMlpHidden(c, reference);
  }
  return out;
}

const presets = new Map<string, Record<string, ModelConfigInput>>([
  ['transformer', baselinePresets('transformer')],
  ['deltanet', baselinePresets('deltanet')],
  ['titans', baselinePresets('titans')],
]);

/** Adds or replaces the presets of a kind (e.g. the Hope side: `registerPresets('hope', {...})`). */
export function registerPresets(kind: string, table: Record<string, ModelConfigInput>): void {
  for (const [name, c] of Object.entries(table))
    if (c.kind !== kind) throw new Error(`registerPresets('${kind}'): preset '${name}' has kind '${c.kind}'`);
  presets.set(kind, { ...presets.get(kind), ...table });
}

/** Preset names available for `kind`. */
export function presetNames(kind: string): string[] {
  return Object.keys(presets.get(kind) ?? {});
}

/**
 * A copy of a preset config, with `overrides` applied (e.g. `{ dtype: 'float64', seed: 1 }`).
 * @throws Error naming an unknown kind or preset (and the known ones)
 */
export function preset(
  kind: string,
  name: string,
  overrides: Record<string, unknown> = {},
): ModelConfigInput {
  const table = presets.get(kind);
  if (table === undefined)
    throw new Error(`preset: no presets for kind '${kind}' (known: ${[...presets.keys()].join(', ')})`);
  const c = table[name];
  if (c === undefined)
    throw new Error(`preset: no preset '${name}' for '${kind}' (known: ${Object.keys(table).join(', ')})`);
  return structuredClone({ ...c, ...overrides, kind: c.kind });
}
