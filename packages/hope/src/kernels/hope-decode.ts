/**
 * `FusedHopeState`: the fast state of a batch-1 HopeLM decoder held for the fused native step
 * (`native.decodeHopeBlock`, one call per block: RMSNorm, conv on the 3-token cache, W_q, ℓ2 norms,
 * the self-modifying memories' one-token steps in place, output norm ⊙ SiLU gate, W_o, residual,
 * RMSNorm, the static CMS read with θ0 + Δ, residual; then `native.decodeHead`). HopeDecoder
 * (models/hope-decoder.ts) owns one; its tensor-op path (`{ fused: false }`) stays the reference.
 *
 * Per block the state is packed on the host: mems [5, 8, H, Dd·Dm] (memories k, v, eta, alpha,
 * mem × w1, w2, s1, s2, a1, a2, the SelfModSnapshot tensors at batch 1, + the native step's
 * snapshot transposes), the conv cache [3, D],
 * the memories' token count, and the CMS snapshot (tensors owned here, never written: plain
 * decoding has no CMS updates). `adopt` packs a HopeFastState, `layerStates` / `release` give one back.
 */
import { native } from '@nl/native';
import { keep, type Tensor } from '@nl/tensor';
import { emptyTensor } from '@nl/tensor/internal';
import type { CmsSnapshot, ContinuumMemory, SelfModifyingTitans, SelfModSnapshot } from '@nl/memory';
import type { nn } from '@nl/tensor';
import { DecodeRows, arr, shellBlocker, type FloatArray, type FusedShellParts } from './fused-decode.js';

/** The memories in the packed order (SelfModifyingTitans.names without adaptiveQ). */
export const HOPE_MEMORIES = ['k', 'v', 'eta', 'alpha', 'mem'] as const;
const STATES = ['w1', 'w2', 's1', 's2', 'a1', 'a2'] as const;
/** States per memory in the packed array: STATES and the native step's snapshot transposes. */
const PACKED = STATES.length + 2;

/** What the fused step reads from a HopeBlock. */
export interface FusedHopeBlock {
  readonly norm1: nn.RMSNorm;
  readonly conv: nn.CausalConv1d;
  readonly wq: nn.Linear;
  readonly titans: SelfModifyingTitans;
  readonly outNorm: nn.RMSNorm;
  readonly wg: nn.Linear;
  readonly wo: nn.Linear;
  readonly norm2: nn.RMSNorm;
  readonly cms: ContinuumMemory;
}

/** The HopeConfig fields the step needs. */
export interface FusedHopeConfig {
  heads: number;
  memoryHidden: number;
  cmsHidden: number;
  chunkMem: number;
  chunkOther: number;
  momentum: number;
  alphaBias: number;
  etaBias: number;
  staticGenerators: boolean;
  precondition: boolean;
  valueStream?: boolean;
  innerGradClip?: number;
}

/** What the fused step reads from its model. */
export interface FusedHopeParts extends FusedShellParts {
  config: FusedHopeConfig;
  blocks: readonly FusedHopeBlock[];
}

/** One layer's fast state in the HopeFastState format (models/hope-block.ts HopeBlockState). */
export interface HopeLayerState {
  titans: SelfModSnapshot;
  cms: CmsSnapshot;
  conv: Tensor | null;
}

/** Why the fused step cannot run `parts` now (null when it can). */
export function fusedHopeBlocker(parts: FusedHopeParts): string | null {
  const why = shellBlocker(parts, 'decodeHopeBlock');
  if (why !== null) return why;
  const c = parts.config;
  if (c.staticGenerators) return 'the ablation switch staticGenerators is on';
  if (!c.precondition) return 'the ablation switch precondition: false is on';
  if (c.valueStream === true) return 'the value stream (valueStream) is on';
  for (const b of parts.blocks) {
    if (b.titans.names.join() !== HOPE_MEMORIES.join())
      return `the memories are ${b.titans.names.join(', ')} (adaptiveQ's memory q is not supported)`;
    if (b.cms.variant !== 'sequential') return `the CMS variant is '${b.cms.variant}', not 'sequential'`;
    if (b.norm1.eps !== b.norm2.eps || b.norm1.eps !== b.outNorm.eps)
      return 'the block norms have different epsilons';
    if (b.conv.weight.shape[1]! < 1) return 'the conv has no taps';
  }
  return null;
}

interface Packed {
  mems: FloatArray; // [5, 8, H, Dd·Dm]: STATES, then the snapshots' transposes (kept by the native step)
  conv: FloatArray; // [K − 1, D]
  tokens: number;
  cms: CmsSnapshot;
  /** The transposes are stale (after `adopt`): the next native call recomputes them. */
  refresh: boolean;
}

/** Whether a tensor's elements are all zero (CMS Δ tensors are never written while held here). */
const zeroCache = new WeakMap<Tensor, boolean>();
function isZero(t: Tensor): boolean {
  let z = zeroCache.get(t);
  if (z === undefined) {
    z = arr(t).every((v) => v === 0);
    zeroCache.set(t, z);
  }
  return z;
}

/** The `decodeHopeBlock` field names of CMS level i: W1, W2, Δ1, Δ2. */
const cmsKeyCache: string[][] = [];
function cmsKeys(i: number): string[] {
  return (cmsKeyCache[i] ??= [`cmsW1_${i}`, `cmsW2_${i}`, `cmsD1_${i}`, `cmsD2_${i}`]);
}

/** The elements of `t` (a batch-1 fast-state tensor), checked against the packed size. */
function elements(t: Tensor, size: number, what: string): FloatArray {
  if (t.numel !== size)
    throw new Error(
      `HopeLM fused decoder: ${what} has ${t.numel} elements [${t.shape.join(', ')}], expected ${size} (a batch-1 state)`,
    );
  return arr(t);
}

export class FusedHopeState {
  private layers: Packed[] | null = null;
  private cached: HopeLayerState[] | null = null;
  private readonly rows: DecodeRows;
  private readonly dtype: 'float32' | 'float64';
  private readonly headDim: number;
  private readonly memSize: number; // Dd·Dm

  constructor(private readonly parts: FusedHopeParts) {
    this.dtype = parts.embed.weight.dtype as 'float32' | 'float64';
    this.headDim = parts.dim / parts.config.heads;
    this.memSize = this.headDim * parts.config.memoryHidden;
    this.rows = new DecodeRows(parts, this.dtype);
  }

  /** Whether a state is packed here. */
  get holding(): boolean {
    return this.layers !== null;
  }

  /**
   * Packs `layers` (copies the memories and conv caches, disposes those tensors, takes the CMS
   * snapshots over). A null memory state is the meta-learned init of the live parameters.
   */
  adopt(layers: HopeLayerState[]): void {
    const { dim, config } = this.parts;
    const H = config.heads;
    this.layers = layers.map((l, i) => {
      const b = this.parts.blocks[i]!;
      const k1 = b.conv.weight.shape[1]! - 1;
      const mems = this.alloc(HOPE_MEMORIES.length * PACKED * H * this.memSize);
      HOPE_MEMORIES.forEach((name, m) => {
        const st = l.titans.state?.[name];
        STATES.forEach((s, j) => {
          const at = (m * PACKED + j) * H * this.memSize;
          const size = H * this.memSize;
          if (st !== undefined) mems.set(elements(st[s], size, `layer ${i} memory ${name}.${s}`), at);
          else if (s[0] !== 's') mems.set(arr(b.titans.memories[name]![s[1] === '1' ? 'w1' : 'w2']), at);
        });
      });
      const conv = this.alloc(k1 * dim);
      if (l.conv !== null) conv.set(elements(l.conv, k1 * dim, `layer ${i} conv cache`));
      return { mems, conv, tokens: l.titans.tokens, cms: l.cms, refresh: true };
    });
    for (const l of layers) {
      for (const m of Object.values(l.titans.state ?? {})) for (const s of STATES) m[s].dispose();
      l.conv?.dispose();
    }
  }

  /** The packed state as a HopeFastState's layers (owned here; valid until the next step). */
  layerStates(): HopeLayerState[] {
    if (this.layers === null) throw new Error('FusedHopeState: no state is held');
    this.cached ??= this.layers.map((l, i) => this.unpack(l, i));
    return this.cached;
  }

  /** Hands the state over as tensors (the caller owns them); nothing is held afterwards. */
  release(): HopeLayerState[] {
    const out = this.layerStates();
    this.cached = null;
    this.layers = null;
    return out;
  }

  /** Frees everything held. */
  dispose(): void {
    this.dropView();
    for (const l of this.layers ?? []) for (const lv of l.cms.levels) for (const t of [lv.d1, lv.d2, lv.g1, lv.g2]) if (!t.isDisposed) t.dispose(); // prettier-ignore
    this.layers = null;
  }

  /**
   * Runs `ids` through the model with the packed state: the logits of every position into
   * `logits` [n, V] (or the scratch, returned). The memories advance unless frozen.
   */
  run(ids: ArrayLike<number>, logits?: FloatArray): FloatArray {
    const layers = this.layers;
    if (layers === null) throw new Error('FusedHopeState: no state is held');
    this.dropView();
    const { dim: d, config: c } = this.parts;
    const n = ids.length;
    const x = this.rows.embed(ids); // [n, D]
    this.parts.blocks.forEach((b, li) => {
      const l = layers[li]!;
      const frozen = b.titans.frozen;
      const arrays: Record<string, FloatArray | null> = {
        x,
        norm1: this.normWeight(b.norm1, d),
        conv: arr(b.conv.weight),
        convBias: b.conv.bias === null ? null : arr(b.conv.bias),
        wq: arr(b.wq.weight),
        outNorm: this.normWeight(b.outNorm, this.headDim),
        wg: arr(b.wg.weight),
        wo: arr(b.wo.weight),
        norm2: this.normWeight(b.norm2, d),
        convCache: l.conv,
        mems: l.mems,
      };
      const w1 = b.cms.w1;
      const w2 = b.cms.w2;
      l.cms.levels.forEach((lv, i) => {
        const [k1, k2, kd1, kd2] = cmsKeys(i);
        arrays[k1] = arr(w1[i]!);
        arrays[k2] = arr(w2[i]!);
        arrays[kd1] = isZero(lv.d1) ? null : arr(lv.d1);
        arrays[kd2] = isZero(lv.d2) ? null : arr(lv.d2);
      });
      native.decodeHopeBlock(arrays as never, {
        tokens: n,
        d,
        heads: c.heads,
        memHidden: c.memoryHidden,
        cmsHidden: w1[0]!.shape[0]!,
        levels: l.cms.levels.length,
        window: b.conv.weight.shape[1]!,
        position: l.tokens,
        chunkMem: c.chunkMem,
        chunkOther: c.chunkOther,
        momentum: c.momentum,
        alphaBias: c.alphaBias,
        etaBias: c.etaBias,
        eps: b.norm1.eps,
        innerGradClip: c.innerGradClip ?? 0,
        frozen,
        refresh: l.refresh,
      });
      l.refresh = false;
      if (!frozen) l.tokens += n;
    });
    return this.rows.head(x, n, logits);
  }

  /** A layer's packed state as tensors (the CMS snapshot shared). */
  private unpack(l: Packed, i: number): HopeLayerState {
    const H = this.parts.config.heads;
    const dd = this.headDim;
    const dm = this.parts.config.memoryHidden;
    const state: Record<string, Record<(typeof STATES)[number], Tensor>> = {};
    HOPE_MEMORIES.forEach((name, m) => {
      const entry = {} as Record<(typeof STATES)[number], Tensor>;
      STATES.forEach((s, j) => {
        const shape = s[1] === '1' ? [1, H, dd, dm] : [1, H, dm, dd];
        const t = keep(emptyTensor(shape, this.dtype, 'cpu', false));
        const at = (m * PACKED + j) * H * this.memSize;
        arr(t).set(l.mems.subarray(at, at + H * this.memSize));
        entry[s] = t;
      });
      state[name] = entry;
    });
    const k1 = this.parts.blocks[i]!.conv.weight.shape[1]! - 1;
    const conv = keep(emptyTensor([1, k1, this.parts.dim], this.dtype, 'cpu', false));
    arr(conv).set(l.conv);
    return { titans: { state, tokens: l.tokens }, cms: l.cms, conv };
  }

  /** Frees the tensors of the last `layerStates` (not the CMS snapshots, held in `layers`). */
  private dropView(): void {
    for (const l of this.cached ?? []) {
      for (const m of Object.values(l.titans.state ?? {})) for (const s of STATES) m[s].dispose();
      l.conv?.dispose();
    }
    this.cached = null;
  }

  private alloc(n: number): FloatArray {
    return this.rows.alloc(n);
  }

  private normWeight(norm: nn.RMSNorm, size: number): FloatArray {
    return this.rows.normWeight(norm, size);
  }
}
