/**
 * The trainer's configuration: plain data, every default in the one table below
 * ({@link CONFIG_FIELDS}), nanoGPT style. Precedence: defaults (or, with `--resume`, the config
 * saved in the checkpoint) < a JSON file given with `--config` < command-line flags. Every key has
 * a kebab-case flag (`seqLen` → `--seq-len`). Unknown keys and bad values raise a
 * {@link ConfigError} naming the key and where it came from; the CLI exits with code 2.
 *
 * The defaults are `pnpm train`: hope-tiny on SOTU, 400 Muon steps of 8 × 128 bytes, which reach
 * about 2.0 validation bits per byte in 3–4 minutes on the 2-core VM (README "Measured"); the
 * step count leaves room for a 2–3× slower, loaded machine, and `timeLimit` caps the rest.
 */
import { readFileSync } from 'node:fs';

/** Which subcommands use a key (all accept every key from a `--config` file). */
export type Command = 'train' | 'eval' | 'sample';

type Kind =
  | { type: 'int'; min: number }
  | { type: 'number'; min: number; max?: number; exclusiveMin?: boolean }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'string'; pattern?: RegExp; describe?: string };

interface Field {
  default: string | number;
  kind: Kind;
  help: string;
  commands: readonly Command[];
}

const ALL: readonly Command[] = ['train', 'eval', 'sample'];
const TRAIN: readonly Command[] = ['train'];
const DATA: readonly Command[] = ['train', 'eval'];

/** Every config key with its default, validation and help. THE place defaults live. */
export const CONFIG_FIELDS = {
  model: {
    default: 'hope-tiny',
    kind: { type: 'string' },
    help: 'model preset: hope-tiny, hope-tiny-live, transformer-tiny, titans-tiny or deltanet-tiny (~600k parameters each)',
    commands: TRAIN,
  },
  device: {
    default: 'cpu',
    kind: {
      type: 'string',
      pattern: /^(cpu|sim|auto|cuda(:\d+)?)$/,
      describe: "'cpu', 'cuda', 'cuda:N', 'auto' or 'sim' (simulated test device)",
    },
    help: "where the model runs: 'cpu', 'auto' (the first real GPU, else cpu), 'cuda[:N]' (a GPU; NL_CUDA_EMULATE=1 opens the emulated device), or 'sim', the simulated device for tests (same results as cpu)",
    commands: ALL,
  },
  threads: {
    default: 0,
    kind: { type: 'int', min: 0 },
    help: 'CPU threads for the native kernels (0 = the addon default)',
    commands: ALL,
  },
  corpus: {
    default: 'sotu',
    kind: { type: 'string', pattern: /\S/, describe: 'a non-empty string' },
    help: "'sotu', 'moby-dick', or a path to a UTF-8 text file or folder",
    commands: DATA,
  },
  valFraction: {
    default: 0.1,
    kind: { type: 'number', min: 0, max: 0.5, exclusiveMin: true },
    help: 'share held out for validation (every round(1/f)-th document)',
    commands: DATA,
  },
  seqLen: {
    default: 128,
    kind: { type: 'int', min: 1 },
    help: 'tokens (bytes) predicted per sequence, T',
    commands: DATA,
  },
  batchSize: { default: 8, kind: { type: 'int', min: 1 }, help: 'sequences per step, B', commands: DATA },
  steps: {
    default: 400,
    kind: { type: 'int', min: 1 },
    help: 'total optimizer steps (a resumed run continues up to this)',
    commands: TRAIN,
  },
  timeLimit: {
    default: 8.5,
    kind: { type: 'number', min: 0 },
    help: 'stop after this many minutes of training (evaluations included) and finish as at the last step; a guard for the 10-minute default run (0 = no limit)',
    commands: TRAIN,
  },
  lr: {
    default: 3e-3,
    kind: { type: 'number', min: 0, exclusiveMin: true },
    help: 'peak learning rate',
    commands: TRAIN,
  },
  schedule: {
    default: 'cosine',
    kind: { type: 'enum', values: ['cosine', 'linear', 'constant'] },
    help: 'learning-rate decay after warmup',
    commands: TRAIN,
  },
  warmup: { default: 20, kind: { type: 'int', min: 0 }, help: 'linear warmup steps', commands: TRAIN },
  minLrRatio: {
    default: 0.1,
    kind: { type: 'number', min: 0, max: 1 },
    help: 'final lr as a fraction of the peak (cosine/linear)',
    commands: TRAIN,
  },
  optimizer: {
    default: 'muon',
    kind: { type: 'string', pattern: /^[a-z0-9-]+$/, describe: 'an optimizer name such as adamw' },
    help: 'outer optimizer: muon (Muon on hidden matrices at 20/3 × lr, AdamW elsewhere), adamw (fused, decay on matrices only) or m3',
    commands: TRAIN,
  },
  weightDecay: {
    default: 0.1,
    kind: { type: 'number', min: 0 },
    help: 'decoupled weight decay',
    commands: TRAIN,
  },
  gradClip: {
    default: 1.0,
    kind: { type: 'number', min: 0 },
    help: 'global gradient-norm clip (0 = off)',
    commands: TRAIN,
  },
  evalInterval: {
    default: 100,
    kind: { type: 'int', min: 0 },
    help: 'validate every N steps (0 = only at the end)',
    commands: TRAIN,
  },
  evalBatches: {
    default: 16,
    kind: { type: 'int', min: 0 },
    help: 'validation batches per evaluation, windows spread evenly over the validation set (0 = all)',
    commands: DATA,
  },
  logInterval: {
    default: 10,
    kind: { type: 'int', min: 1 },
    help: 'steps between log lines when stdout is not a terminal',
    commands: TRAIN,
  },
  checkpointDir: {
    default: 'runs/{model}/checkpoint',
    kind: { type: 'string', pattern: /\S/, describe: 'a non-empty path' },
    help: 'checkpoint folder (replaced atomically; {model} stands for the model name)',
    commands: ALL,
  },
  checkpointInterval: {
    default: 100,
    kind: { type: 'int', min: 0 },
    help: 'checkpoint every N steps (0 = only at the end); always at the end and on Ctrl-C',
    commands: TRAIN,
  },
  plotDir: {
    default: 'runs/{model}',
    kind: { type: 'string', pattern: /\S/, describe: 'a non-empty path' },
    help: 'folder for curves.svg, curves.png and metrics.jsonl ({model} as above)',
    commands: TRAIN,
  },
  seed: {
    default: 1337,
    kind: { type: 'int', min: 0 },
    help: 'seed for initialisation, batches and sampling',
    commands: ALL,
  },
  prompt: {
    default: 'Fellow-Citizens of the Senate and House of Representatives: ',
    kind: { type: 'string' },
    help: 'sampling prompt',
    commands: ['train', 'sample'],
  },
  sampleLength: {
    default: 200,
    kind: { type: 'int', min: 0 },
    help: 'bytes to generate per sample',
    commands: ['train', 'sample'],
  },
  temperature: {
    default: 0.8,
    kind: { type: 'number', min: 0 },
    help: 'sampling temperature (0 = greedy)',
    commands: ['train', 'sample'],
  },
  topK: {
    default: 40,
    kind: { type: 'int', min: 0 },
    help: 'sample among the K most likely bytes (0 = all 256)',
    commands: ['train', 'sample'],
  },
  numSamples: {
    default: 2,
    kind: { type: 'int', min: 0 },
    help: 'samples printed (at the end of training, or by sample)',
    commands: ['train', 'sample'],
  },
} as const satisfies Record<string, Field>;

/** A config key. */
export type ConfigKey = keyof typeof CONFIG_FIELDS;

type Widen<T> = T extends string ? string : T extends number ? number : T;

/** The effective configuration: every key present. */
export type TrainConfig = { -readonly [K in ConfigKey]: Widen<(typeof CONFIG_FIELDS)[K]['default']> };

/** All defaults, derived from {@link CONFIG_FIELDS}. */
export const DEFAULT_CONFIG: Readonly<TrainConfig> = Object.freeze(
  Object.fromEntries(Object.entries(CONFIG_FIELDS).map(([k, f]) => [k, f.default])) as TrainConfig,
);

/** A usage error: unknown key, bad value, unreadable config file. The CLI exits with code 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly exitCode = 2;
}

/** `seqLen` → `seq-len`. */
export const toFlag = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

const KEYS = Object.keys(CONFIG_FIELDS) as ConfigKey[];

function describeKind(k: Kind): string {
  switch (k.type) {
    case 'int':
      return `an integer >= ${k.min}`;
    case 'number':
      return `a number ${k.exclusiveMin ? '>' : '>='} ${k.min}${k.max !== undefined ? ` and <= ${k.max}` : ''}`;
    case 'enum':
      return `one of ${k.values.join(', ')}`;
    case 'string':
      return k.describe ?? 'a string';
  }
}

/**
 * Check one value against its key's rule. Strings from the command line are converted for
 * numeric keys; JSON values must already have the right type.
 * @param source - where it came from, for the message (e.g. `--lr`, `run.json`)
 */
export function parseValue(key: string, raw: unknown, source: string): string | number {
  if (!(key in CONFIG_FIELDS)) {
    throw new ConfigError(`unknown config key "${key}" in ${source}; known keys: ${KEYS.join(', ')}`);
  }
  const kind: Kind = CONFIG_FIELDS[key as ConfigKey].kind;
  const bad = () =>
    new ConfigError(
      `config key "${key}" (${source}) must be ${describeKind(kind)}, got ${JSON.stringify(raw)}`,
    );
  if (kind.type === 'int' || kind.type === 'number') {
    const v = typeof raw === 'string' && source.startsWith('--') && raw.trim() !== '' ? Number(raw) : raw;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw bad();
    if (kind.type === 'int' && !Number.isInteger(v)) throw bad();
    if (kind.type === 'number' && kind.exclusiveMin ? v <= kind.min : v < kind.min) throw bad(); // (number && exclusive) ? … : …
    if (kind.type === 'number' && kind.max !== undefined && v > kind.max) throw bad();
    return v;
  }
  if (typeof raw !== 'string') throw bad();
  if (kind.type === 'enum' && !kind.values.includes(raw)) throw bad();
  if (kind.type === 'string' && kind.pattern && !kind.pattern.test(raw)) throw bad();
  return raw;
}

/**
 * Read overrides from a JSON config file: a JSON object whose keys are config keys.
 * @throws ConfigError for a missing/unparsable file, a non-object, an unknown key or a bad value
 */
export function readConfigFile(path: string): Partial<TrainConfig> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as Error).message}`);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj))
    throw new ConfigError(`config file ${path} must hold a JSON object`);
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = parseValue(k, v, path);
  return out as Partial<TrainConfig>;
}

/** Overrides from command-line flag values (strings, keyed by config key). */
export function parseFlagValues(values: Record<string, unknown>): Partial<TrainConfig> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(values))
    if (v !== undefined) out[k] = parseValue(k, v, `--${toFlag(k)}`);
  return out as Partial<TrainConfig>;
}

/**
 * Merge layers into an effective config, later layers winning; the base must be complete. `{model}` in
 * checkpointDir and plotDir becomes the model name.
 * @throws ConfigError if the base (e.g. a config saved in an older checkpoint) has an unknown key or bad value
 */
export function resolveConfig(base: Record<string, unknown>, ...layers: Partial<TrainConfig>[]): TrainConfig {
  const out: Record<string, string | number> = {};
  for (const k of Object.keys(base))
    if (!(k in CONFIG_FIELDS)) parseValue(k, base[k], 'the saved run config');
  for (const k of KEYS)
    out[k] = parseValue(k, k in base ? base[k] : DEFAULT_CONFIG[k], 'the saved run config');
  for (const layer of layers) Object.assign(out, layer);
  for (const k of ['checkpointDir', 'plotDir'] as const)
    out[k] = String(out[k]).replaceAll('{model}', String(out.model));
  return out as TrainConfig;
}

/** The config as aligned `key = value` lines, printed at the start of every command. */
export function formatConfig(config: TrainConfig, command: Command): string {
  const keys = KEYS.filter((k) => (CONFIG_FIELDS[k].commands as readonly Command[]).includes(command));
  const width = Math.max(...keys.map((k) => k.length));
  return keys.map((k) => `  ${k.padEnd(width)} = ${JSON.stringify(config[k])}`).join('\n');
}
