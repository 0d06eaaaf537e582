/**
 * Safetensors-style flattening of an optimizer state: every state array becomes one named
 * typed array (`state.<paramIndex>.<key>`), everything else (numbers, group options) goes into a
 * small JSON string, so a checkpoint writer that stores {name: typed array} + string metadata
 * can save optimizer state losslessly.
 */
import type { StateDict } from './optimizer.js';
import type { FloatArray } from './param.js';
import { decodeValue, encodeValue, type EncodedValue } from './serialize.js';

/** Flattened optimizer state: named arrays plus a JSON metadata string. */
export interface FlatState {
  tensors: Record<string, FloatArray>;
  /** JSON: {paramGroups, scalars: {"<paramIndex>.<key>": number}} */
  metadata: string;
}

/**
 * Splits a `stateDict()` into named typed arrays and JSON metadata (arrays are fresh copies).
 * @example
 * const { tensors, metadata } = flattenStateDict(opt.stateDict());
 * // write tensors as safetensors entries, metadata under __metadata__
 */
export function flattenStateDict(sd: StateDict): FlatState {
  const tensors: Record<string, FloatArray> = {};
  const scalars: Record<string, number> = {};
  for (const [pi, entry] of Object.entries(sd.state))
    for (const [k, v] of Object.entries(entry)) {
      const d = decodeValue(v, `flattenStateDict: ${pi}.${k}`);
      if (typeof d === 'number') scalars[`${pi}.${k}`] = d;
      else tensors[`state.${pi}.${k}`] = d;
    }
  return { tensors, metadata: JSON.stringify({ paramGroups: sd.paramGroups, scalars }) };
}

/** Rebuilds a `StateDict` from `flattenStateDict`'s output (for `loadStateDict`). */
export function unflattenStateDict(flat: FlatState): StateDict {
  const meta = JSON.parse(flat.metadata) as {
    paramGroups: StateDict['paramGroups'];
    scalars: Record<string, number>;
  };
  if (!meta || !Array.isArray(meta.paramGroups) || typeof meta.scalars !== 'object')
    throw new TypeError('unflattenStateDict: metadata must hold {paramGroups, scalars}');
  const state: Record<string, Record<string, EncodedValue>> = {};
  const put = (pi: string, k: string, v: EncodedValue) => ((state[pi] ??= {})[k] = v);
  for (const [name, arr] of Object.entries(flat.tensors)) {
    const m = /^state\.(\d+)\.(.+)$/.exec(name);
    if (!m)
      throw new RangeError(`unflattenStateDict: unexpected tensor name ${name} (want state.<index>.<key>)`);
    put(m[1]!, m[2]!, encodeValue(arr));
  }
  for (const [name, v] of Object.entries(meta.scalars)) {
    const dot = name.indexOf('.');
    put(name.slice(0, dot), name.slice(dot + 1), v);
  }
  return { state, paramGroups: meta.paramGroups };
}
