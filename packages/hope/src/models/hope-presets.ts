/**
 * HopeLM presets. `hope-tiny` is sized for training on bytes on a 2-core CPU (README "HopeLM",
 * measured throughput); the paper-scale presets follow nested-learning.md §6.3 / A12 / A17
 * (FLA/Titans lineage: 24 layers, heads of 64, vocab 32K, 4 CMS levels with geometric chunks and
 * the lowest frequency at 2K) with the CMS width chosen so the parameter count matches a
 * Transformer++ of the same width and depth. They are constructible but not meant for CPU.
 */
import {
  hopeParamCount,
  resolveHopeConfig,
  transformerPPParamCount,
  type HopeConfig,
  type HopeConfigInput,
} from './hope-config.js';

const PAPER_LEVELS = [
  { chunkSize: 32, lr: 1e-3 },
  { chunkSize: 128, lr: 1e-3 },
  { chunkSize: 512, lr: 1e-3 },
  { chunkSize: 2048, lr: 1e-3 },
];

/**
 * The CMS hidden width that makes `base` (with any cmsHidden) match Transformer++'s parameter
 * count of the same vocab, width and depth, rounded to a multiple of 8.
 */
export function paramMatchedCmsHidden(base: HopeConfigInput): number {
  const c = resolveHopeConfig({ ...base, cmsHidden: 1 });
  const target = transformerPPParamCount(c.vocabSize, c.dim, c.layers);
  const rest = hopeParamCount({ ...c, cmsHidden: 0 } as HopeConfig);
  const per = c.layers * c.cmsLevels.length * 2 * c.dim; // parameters per unit of cmsHidden
  return Math.max(8, Math.round((target - rest) / per / 8) * 8);
}

function paper(dim: number, heads: number): HopeConfigInput {
  const base: HopeConfigInput = {
    kind: 'hope',
    vocabSize: 32000,
    dim,
    layers: 24,
    heads,
    memoryHidden: 64,
    chunkMem: 64,
    chunkOther: 8,
    cmsLevels: PAPER_LEVELS,
    selfModImpl: 'chunked',
  };
  return { ...base, cmsHidden: paramMatchedCmsHidden(base) };
}

/**
 * "Live" self-modifying memories at init (issue 16, MQAR): with every layer at std 0.02 the
 * memory's writes (∝ e σ(W2 k)ᵀ) and reads (W1 σ(W2 q)) are products of two small inits, and k ≈ v
 * (both ≈ the shared input through identity-residual generators) makes e ≈ 0: the read is inert at
 * init. W2 at std 1 gives O(1) features, k and v distinct random parts (W1 at 0.1), η ≈ 0.07
 * (etaBias −2.5). Without a bound on the writes that init overflowed: hope-tiny's forward at init
 * was NaN from T = 128 on (B 8). `innerGradClip: 1` bounds each token's write, so the fast weights
 * grow at most linearly (SelfModifyingConfig.innerGradClip) and the forward stays finite (tested
 * at T 512 for every selfModImpl on the CPU; 'fused' on 'cuda' has the clip too, its kernels
 * tested emulated against the CPU's). Still an opt-in override
 * (`hopePreset('hope-tiny', HOPE_LIVE_MEMORY_INIT)`), not the preset.
 */
export const HOPE_LIVE_MEMORY_INIT: Partial<HopeConfigInput> = {
  memoryInitStd: {
    k: { w1: 0.1, w2: 1 },
    v: { w1: 0.1, w2: 1 },
    eta: { w2: 1 },
    alpha: { w2: 1 },
    mem: { w2: 1 },
  },
  etaBias: -2.5,
  innerGradClip: 1,
};

/** Preset name → config input (the trainer fills `vocabSize` from its tokenizer and `seed`). */
export const HOPE_PRESETS: Readonly<Record<string, HopeConfigInput>> = {
  'hope-tiny': {
    kind: 'hope',
    vocabSize: 256,
    dim: 128,
    layers: 2,
    heads: 4,
    memoryHidden: 16,
    chunkMem: 32,
    chunkOther: 16,
    cmsLevels: [
      { chunkSize: 32, lr: 1e-3 },
      { chunkSize: 128, lr: 1e-3 },
      { chunkSize: 512, lr: 1e-3 },
    ],
    cmsHidden: 256,
    selfModImpl: 'fused', // native forward + backward; 20–40% faster steps than 'chunked' here (same maths)
    cmsImpl: 'fused', // native CMS ops: ~20% fewer CPU-seconds per B8 T128 train step than 'loop' (same maths)
  },
  'hope-340m': paper(1024, 16),
  'hope-760m': paper(1536, 24),
  'hope-1.3b': paper(2048, 32),
};

/** A preset's config input, with overrides (e.g. `{ vocabSize, seed }`). */
export function hopePreset(name: string, overrides: Partial<HopeConfigInput> = {}): HopeConfigInput {
  const p = HOPE_PRESETS[name];
  if (p === undefined)
    throw new Error(`unknown Hope preset '${name}' (known: ${Object.keys(HOPE_PRESETS).join(', ')})`);
  return { ...p, ...overrides } as HopeConfigInput;
}
