/**
 * Validation helpers shared by the baseline model configs (TransformerLM, DeltaNetLM, TitansLM):
 * every check throws an Error that names the model, the field and the offending value, e.g.
 * `TransformerLM config: dim (130) must be divisible by heads (4)`.
 */
import type { LMConfigBase } from './contract.js';

/** The shell fields every baseline config has after resolution. */
export interface ShellConfig extends LMConfigBase {
  dtype: 'float32' | 'float64';
  /** Tie the LM head to the token embedding (default false). */
  tieEmbeddings: boolean;
  /** Hidden width of the SwiGLU MLP of every block (default round(8·dim/3)). */
  mlpHidden: number;
  /** Epsilon of every RMSNorm (default 1e-6). */
  normEps: number;
  /** When set, the constructor calls `manualSeed(seed)` before drawing weights. */
  seed?: number;
}

/** Field names of `ShellConfig` (for unknown-field checks). */
export const SHELL_FIELDS = [
  'kind',
  'vocabSize',
  'dim',
  'layers',
  'heads',
  'dtype',
  'tieEmbeddings',
  'mlpHidden',
  'normEps',
  'seed',
] as const;

/** A thrower bound to one model's label. */
export function failer(label: string): (msg: string) => never {
  return (msg: string): never => {
    throw new Error(`${label} config: ${msg}`);
  };
}

/** A positive integer field, or the default when absent. */
export function posInt(fail: (m: string) => never, name: string, v: unknown, dflt?: number): number {
  const x = v === undefined ? dflt : v;
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 1)
    fail(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return x as number;
}

/**
 * Upper bound of `layers` in every model config: a typo such as `layers: 1e6` would otherwise
 * build for minutes before failing (or exhaust memory).
 */
export const MAX_LAYERS = 1024;

/** `layers`: a positive integer up to MAX_LAYERS. */
export function layersField(fail: (m: string) => never, v: unknown): number {
  const n = posInt(fail, 'layers', v);
  if (n > MAX_LAYERS) fail(`layers must be at most ${MAX_LAYERS}, got ${n}`);
  return n;
}

/** A finite number field in [lo, hi] (inclusive), or the default when absent. */
export function numIn(
  fail: (m: string) => never,
  name: string,
  v: unknown,
  dflt: number,
  lo: number,
  hi: number,
): number {
  const x = v === undefined ? dflt : v;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < lo || x > hi)
    fail(`${name} must be a number in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  return x as number;
}

/**
 * Validates the shell fields of `input` (kind must equal `kind`), rejects fields outside
 * `known` and fills the shell defaults.
 */
export function resolveShell(
  label: string,
  kind: LMConfigBase['kind'],
  input: Record<string, unknown>,
  known: readonly string[],
): ShellConfig {
  const fail = failer(label);
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    fail(`expected an object, got ${JSON.stringify(input)}`);
  const allowed = new Set<string>([...SHELL_FIELDS, ...known]);
  for (const k of Object.keys(input)) if (!allowed.has(k)) fail(`unknown field '${k}'`);
  if (input.kind !== undefined && input.kind !== kind)
    fail(`kind must be '${kind}', got ${JSON.stringify(input.kind)}`);
  const vocabSize = posInt(fail, 'vocabSize', input.vocabSize);
  const dim = posInt(fail, 'dim', input.dim);
  const layers = layersField(fail, input.layers);
  const heads = posInt(fail, 'heads', input.heads);
  if (dim % heads !== 0) fail(`dim (${dim}) must be divisible by heads (${heads})`);
  const dtype = input.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64')
    fail(`dtype must be 'float32' or 'float64', got ${JSON.stringify(dtype)}`);
  const tieEmbeddings = input.tieEmbeddings ?? false;
  if (typeof tieEmbeddings !== 'boolean')
    fail(`tieEmbeddings must be a boolean, got ${JSON.stringify(tieEmbeddings)}`);
  const mlpHidden = posInt(fail, 'mlpHidden', input.mlpHidden, Math.round((8 * dim) / 3));
  const normEps = numIn(fail, 'normEps', input.normEps, 1e-6, 0, 1);
  const out: ShellConfig = {
    kind,
    vocabSize,
    dim,
    layers,
    heads,
    dtype: dtype as ShellConfig['dtype'],
    tieEmbeddings: tieEmbeddings as boolean,
    mlpHidden,
    normEps,
  };
  if (input.seed !== undefined) {
    if (typeof input.seed !== 'number' || !Number.isSafeInteger(input.seed))
      fail(`seed must be an integer, got ${JSON.stringify(input.seed)}`);
    out.seed = input.seed as number;
  }
  return out;
}
