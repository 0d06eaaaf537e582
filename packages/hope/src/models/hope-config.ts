/**
 * HopeLM configuration: plain JSON data, every default in `HOPE_DEFAULTS`, validation with
 * errors that name the field (`resolveHopeConfig`), and an analytic parameter count
 * (`hopeParamCount`) used to param-match the paper-scale presets to Transformer++.
 */
import type { LMConfigBase } from './contract.js';
import { layersField } from './config-fields.js';

/** One CMS level: update period in tokens and inner learning rate. */
export interface HopeCmsLevel {
  chunkSize: number;
  lr: number;
}

/** ContinuumMemory implementation (@nl/memory `CmsConfig.impl`). */
export type HopeCmsImpl = 'loop' | 'fused';

/** How the outer gradient crosses the segments of the online CMS scheme (README "HopeLM"). */
export type HopeTrainGrad = 'full' | 'truncated';

/** The self-modifying memories of a Hope layer. */
export type HopeMemoryName = 'k' | 'v' | 'eta' | 'alpha' | 'mem';
const MEMORY_NAMES: readonly HopeMemoryName[] = ['k', 'v', 'eta', 'alpha', 'mem'];

/** The full HopeLM config (what `config` holds after `resolveHopeConfig`). */
export type HopeConfig = LMConfigBase & {
  kind: 'hope';
  /** Hidden width of every self-modifying memory MLP, per head. */
  memoryHidden: number;
  /** Chunk size of M_memory (tokens between snapshot refreshes). */
  chunkMem: number;
  /** Chunk size shared by M_k, M_v, M_η, M_α. */
  chunkOther: number;
  /** Inner momentum β of the DGD rule (0 disables). */
  momentum: number;
  /** Initial bias of the memories' η gate: η = α·sigmoid(mean M_η(x) + etaBias). Small η keeps MLP memories stable. */
  etaBias: number;
  /** Initial bias of the forget gate: α = sigmoid(mean M_α(x) + alphaBias) (α ≈ 1: little decay). */
  alphaBias: number;
  /**
   * Ablation (Table 6 "w/o self-modifying generators"): k, v, η, α come from static maps (the
   * generator memories never write). Needs selfModImpl 'loop' or 'chunked'. Default false.
   */
  staticGenerators: boolean;
  /**
   * DGD's preconditioner (W2 ← W2 (α I − η k kᵀ) + S2); false = plain GD (Table 6 "w/o DGD").
   * false needs selfModImpl 'loop' or 'chunked'. Default true.
   */
  precondition: boolean;
  /**
   * A separate value stream (default off; README "The value stream"): the v generator reads
   * x_v = ℓ2(conv₄(W_v RMSNorm(h))) per head, with its own linear W_v and causal conv (own 3-token
   * cache), instead of the x = ℓ2(conv₄(RMSNorm(h))) that k, η, α read. A deviation from the
   * paper's Eqs. 83–85 (one x_t for every generator), like Titans' separate projections. Every
   * selfModImpl; 'fused' on the CPU only (its CUDA kernels have no value input and refuse it by
   * name; use 'chunked' there). Present in a resolved config only when on (true), so the
   * configs of models without it (checkpoints, session files) are unchanged.
   */
  valueStream?: boolean;
  /**
   * Inner-gradient clipping of the self-modifying memories (absent = off): every token's inner
   * gradient of every memory is scaled to a Frobenius norm ≤ this value, so the fast weights grow
   * at most linearly within a sequence (SelfModifyingConfig.innerGradClip; issue 16: without it
   * hope-vs's fast weights overflowed within one 47-token MQAR sequence after 260 steps).
   * Every selfModImpl ('fused' on the CPU and on CUDA); the fused decoder and the ONNX export
   * run it.
   */
  innerGradClip?: number;
  /**
   * Init stds of the self-modifying memories' layers per memory (k, v, eta, alpha, mem), e.g.
   * `{ mem: { w2: 1 } }`; unnamed layers use 0.02 (SelfModifyingConfig.memoryInitStd).
   */
  memoryInitStd: Partial<Record<HopeMemoryName, { w1?: number; w2?: number }>>;
  /** CMS levels, fastest first (sequential variant). */
  cmsLevels: HopeCmsLevel[];
  /** Hidden width of every CMS level MLP. */
  cmsHidden: number;
  /** SelfModifyingTitans implementation ('loop' is the reference; others when @nl/memory has them). */
  selfModImpl: string;
  /** ContinuumMemory implementation: 'loop' (tensor ops, the reference) or 'fused' (native ops). */
  cmsImpl: HopeCmsImpl;
  /** Outer gradient across CMS segments: 'full' (exact, A18 over the sequence) or 'truncated'. */
  trainGrad: HopeTrainGrad;
  /** Tie the LM head to the embedding. */
  tieEmbeddings: boolean;
  dtype: 'float32' | 'float64';
  /** Seed of the parameter initialisation. */
  seed: number;
};

/** What a caller may pass: `kind` optional, any other field optional except the sizes. */
export type HopeConfigInput = Partial<HopeConfig> &
  Pick<HopeConfig, 'vocabSize' | 'dim' | 'layers' | 'heads'>;

/** Defaults for every optional field (the sizes have none). */
export const HOPE_DEFAULTS = {
  chunkMem: 16,
  chunkOther: 8,
  momentum: 0.9,
  etaBias: -4,
  alphaBias: 4,
  staticGenerators: false,
  precondition: true,
  memoryInitStd: {},
  cmsLevels: [
    { chunkSize: 32, lr: 1e-3 },
    { chunkSize: 128, lr: 1e-3 },
    { chunkSize: 512, lr: 1e-3 },
  ] as HopeCmsLevel[],
  selfModImpl: 'loop',
  cmsImpl: 'loop' as HopeCmsImpl,
  trainGrad: 'full' as HopeTrainGrad,
  tieEmbeddings: false,
  dtype: 'float32' as const,
  seed: 0,
} as const;

const KNOWN = new Set([
  'kind',
  'vocabSize',
  'dim',
  'layers',
  'heads',
  'memoryHidden',
  'chunkMem',
  'chunkOther',
  'momentum',
  'etaBias',
  'alphaBias',
  'staticGenerators',
  'precondition',
  'valueStream',
  'innerGradClip',
  'memoryInitStd',
  'cmsLevels',
  'cmsHidden',
  'selfModImpl',
  'cmsImpl',
  'trainGrad',
  'tieEmbeddings',
  'dtype',
  'seed',
]);

function fail(msg: string): never {
  throw new Error(`HopeLM config: ${msg}`);
}

function posInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    fail(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

/** Checks `memoryInitStd` (known memories and layers, finite stds >= 0); returns a copy. */
function resolveMemoryInit(v: unknown): HopeConfig['memoryInitStd'] {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    fail(`memoryInitStd must be an object, got ${JSON.stringify(v)}`);
  const out: HopeConfig['memoryInitStd'] = {};
  for (const [name, layers] of Object.entries(v as Record<string, unknown>)) {
    if (!MEMORY_NAMES.includes(name as HopeMemoryName))
      fail(`memoryInitStd.${name}: unknown memory (memories: ${MEMORY_NAMES.join(', ')})`);
    if (layers === null || typeof layers !== 'object')
      fail(`memoryInitStd.${name} must be {w1?, w2?}, got ${JSON.stringify(layers)}`);
    const entry: { w1?: number; w2?: number } = {};
    for (const [w, std] of Object.entries(layers as Record<string, unknown>)) {
      if (w !== 'w1' && w !== 'w2') fail(`memoryInitStd.${name}.${w}: unknown layer (w1, w2)`);
      if (typeof std !== 'number' || !Number.isFinite(std) || std < 0)
        fail(`memoryInitStd.${name}.${w} must be a finite number >= 0, got ${JSON.stringify(std)}`);
      entry[w] = std;
    }
    out[name as HopeMemoryName] = entry;
  }
  return out;
}

/**
 * Fills defaults and validates. Errors name the field and the value, e.g.
 * `HopeLM config: dim (130) must be divisible by heads (4)`.
 */
export function resolveHopeConfig(input: HopeConfigInput): HopeConfig {
  if (input === null || typeof input !== 'object') fail(`expected an object, got ${String(input)}`);
  for (const k of Object.keys(input)) if (!KNOWN.has(k)) fail(`unknown field '${k}'`);
  if (input.kind !== undefined && input.kind !== 'hope') fail(`kind must be 'hope', got '${input.kind}'`);
  const vocabSize = posInt('vocabSize', input.vocabSize);
  const dim = posInt('dim', input.dim);
  const layers = layersField(fail, input.layers);
  const heads = posInt('heads', input.heads);
  if (dim % heads !== 0) fail(`dim (${dim}) must be divisible by heads (${heads})`);
  const headDim = dim / heads;
  const memoryHidden = posInt('memoryHidden', input.memoryHidden ?? headDim);
  const chunkMem = posInt('chunkMem', input.chunkMem ?? HOPE_DEFAULTS.chunkMem);
  const chunkOther = posInt('chunkOther', input.chunkOther ?? HOPE_DEFAULTS.chunkOther);
  const momentum = input.momentum ?? HOPE_DEFAULTS.momentum;
  if (typeof momentum !== 'number' || !(momentum >= 0 && momentum < 1))
    fail(`momentum must be in [0, 1), got ${JSON.stringify(momentum)}`);
  const etaBias = input.etaBias ?? HOPE_DEFAULTS.etaBias;
  const alphaBias = input.alphaBias ?? HOPE_DEFAULTS.alphaBias;
  for (const [k, v] of [
    ['etaBias', etaBias],
    ['alphaBias', alphaBias],
  ] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v))
      fail(`${k} must be a finite number, got ${JSON.stringify(v)}`);
  }
  const staticGenerators = input.staticGenerators ?? HOPE_DEFAULTS.staticGenerators;
  const precondition = input.precondition ?? HOPE_DEFAULTS.precondition;
  for (const [k, v] of [
    ['staticGenerators', staticGenerators],
    ['precondition', precondition],
  ] as const)
    if (typeof v !== 'boolean') fail(`${k} must be a boolean, got ${JSON.stringify(v)}`);
  const valueStream = input.valueStream ?? false;
  if (typeof valueStream !== 'boolean')
    fail(`valueStream must be a boolean, got ${JSON.stringify(valueStream)}`);
  const innerGradClip = input.innerGradClip ?? 0;
  if (typeof innerGradClip !== 'number' || !Number.isFinite(innerGradClip) || innerGradClip < 0)
    fail(`innerGradClip must be a finite number >= 0 (0 = off), got ${JSON.stringify(innerGradClip)}`);
  const memoryInitStd = resolveMemoryInit(input.memoryInitStd ?? HOPE_DEFAULTS.memoryInitStd);
  const levels = input.cmsLevels ?? HOPE_DEFAULTS.cmsLevels;
  if (!Array.isArray(levels) || levels.length === 0) fail('cmsLevels must be a non-empty array');
  const cmsLevels = levels.map((l, i) => {
    if (l === null || typeof l !== 'object') fail(`cmsLevels[${i}] must be {chunkSize, lr}`);
    const chunkSize = posInt(`cmsLevels[${i}].chunkSize`, l.chunkSize);
    const lr = l.lr;
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0)
      fail(`cmsLevels[${i}].lr must be a finite number >= 0, got ${JSON.stringify(lr)}`);
    return { chunkSize, lr };
  });
  const cmsHidden = posInt('cmsHidden', input.cmsHidden ?? 4 * dim);
  const selfModImpl = input.selfModImpl ?? HOPE_DEFAULTS.selfModImpl;
  if (typeof selfModImpl !== 'string' || selfModImpl === '') fail(`selfModImpl must be a non-empty string`);
  if ((staticGenerators || !precondition) && selfModImpl !== 'loop' && selfModImpl !== 'chunked')
    fail(`staticGenerators / precondition: false need selfModImpl 'loop' or 'chunked', got '${selfModImpl}'`);
  const cmsImpl = input.cmsImpl ?? HOPE_DEFAULTS.cmsImpl;
  if (cmsImpl !== 'loop' && cmsImpl !== 'fused')
    fail(`cmsImpl must be 'loop' or 'fused', got ${JSON.stringify(cmsImpl)}`);
  const trainGrad = input.trainGrad ?? HOPE_DEFAULTS.trainGrad;
  if (trainGrad !== 'full' && trainGrad !== 'truncated')
    fail(`trainGrad must be 'full' or 'truncated', got ${JSON.stringify(trainGrad)}`);
  const dtype = input.dtype ?? HOPE_DEFAULTS.dtype;
  if (dtype !== 'float32' && dtype !== 'float64')
    fail(`dtype must be 'float32' or 'float64', got ${JSON.stringify(dtype)}`);
  const seed = input.seed ?? HOPE_DEFAULTS.seed;
  if (typeof seed !== 'number' || !Number.isInteger(seed)) fail(`seed must be an integer, got ${seed}`);
  const tieEmbeddings = input.tieEmbeddings ?? HOPE_DEFAULTS.tieEmbeddings;
  if (typeof tieEmbeddings !== 'boolean') fail(`tieEmbeddings must be a boolean`);
  return {
    kind: 'hope',
    vocabSize,
    dim,
    layers,
    heads,
    memoryHidden,
    chunkMem,
    chunkOther,
    momentum,
    etaBias,
    alphaBias,
    staticGenerators,
    precondition,
    ...(valueStream ? { valueStream: true } : {}),
    ...(innerGradClip > 0 ? { innerGradClip } : {}),
    memoryInitStd,
    cmsLevels,
    cmsHidden,
    selfModImpl,
    cmsImpl,
    trainGrad,
    tieEmbeddings,
    dtype,
    seed,
  };
}

/** Self-modifying memories per head (k, v, η, α, mem; static q). */
export const HOPE_MEMORIES = 5;
/** Causal conv window before the memories. */
export const HOPE_CONV = 4;

/**
 * Trainable scalars of a HopeLM with this config, without building it (paper-scale presets).
 * Per layer: 2 RMSNorm (2d) + conv (4d + d) + W_q, W_g, W_o (3d²) + out-norm (d/H)
 * + 5 memories × H × 2·(d/H)·hidden + CMS levels × 2·d·cmsHidden (+ W_v and its conv, d² + 5d, with
 * valueStream). Plus embedding, final norm, head.
 */
export function hopeParamCount(c: HopeConfig): number {
  const d = c.dim;
  const dh = d / c.heads;
  const perLayer =
    2 * d +
    (HOPE_CONV + 1) * d +
    3 * d * d +
    dh +
    HOPE_MEMORIES * c.heads * 2 * dh * c.memoryHidden +
    c.cmsLevels.length * 2 * d * c.cmsHidden +
    (c.valueStream === true ? d * d + (HOPE_CONV + 1) * d : 0);
  const head = c.tieEmbeddings ? 0 : c.vocabSize * d;
  return c.vocabSize * d + c.layers * perLayer + d + head;
}

/** Transformer++ (SwiGLU FFN of width round(8d/3), untied head, no biases) of the same d, L, V. */
export function transformerPPParamCount(vocabSize: number, dim: number, layers: number): number {
  const ffn = Math.round((8 * dim) / 3);
  return 2 * vocabSize * dim + layers * (4 * dim * dim + 3 * dim * ffn + 2 * dim) + dim;
}
