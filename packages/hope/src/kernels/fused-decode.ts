/**
 * The shell of the fused batch-1 decoders (transformer-, deltanet-, titans-decode.ts): ids are
 * embedded on the host from the embedding's elements, every block runs in one native call on a
 * hidden-state buffer x [n, D], and the final RMSNorm + head is one more (`native.decodeHead`).
 * Subclasses own their per-block state (KV caches, conv caches, memories) as CPU tensors. Same
 * contract and checks as the tensor-op `StreamDecoder`, which stays the reference.
 */
import { hasNative, native } from '@nl/native';
import type { nn, Tensor } from '@nl/tensor';
import { elementsOf, emptyTensor } from '@nl/tensor/internal';
import type { StepDecoder } from '../models/stream-decoder.js';

export type FloatArray = Float32Array | Float64Array;

/** What every fused decoder reads from its model's shell. */
export interface FusedShellParts {
  label: string;
  vocabSize: number;
  dim: number;
  embed: nn.Embedding;
  normF: nn.RMSNorm;
  head: nn.Linear;
}

/** The elements of contiguous tensors opened so far (a tensor's storage never changes). */
const opened = new WeakMap<Tensor, FloatArray>();

/** A CPU tensor's elements in place (a copy only when it is not contiguous). */
export function arr(t: Tensor): FloatArray {
  let a = opened.get(t);
  if (a === undefined || t.isDisposed) {
    a = elementsOf(t) as FloatArray;
    if (t.isContiguous && !t.isDisposed) opened.set(t, a);
  }
  return a;
}

/** Why a fused decoder needing the addon entry `entry` cannot run on `parts` (null when it can). */
export function shellBlocker(parts: FusedShellParts, entry: string): string | null {
  if (!hasNative()) return 'the native addon is not loaded';
  if (typeof (native as unknown as Record<string, unknown>)[entry] !== 'function')
    return `the native addon has no ${entry} (rebuild native/)`;
  const w = parts.embed.weight;
  if (w.device !== 'cpu') return `the model is on '${w.device}', the fused decoder runs on 'cpu'`;
  if (w.dtype !== 'float32' && w.dtype !== 'float64')
    return `the model's dtype is ${w.dtype}, the fused decoder runs float32 and float64`;
  return null;
}

/** What a conv-qkv gated mixer block (DeltaNet, Titans) gives every fused step. */
export interface FusedMixerBlock {
  readonly norm1: nn.RMSNorm;
  readonly qkv: { readonly proj: nn.Linear; readonly conv: nn.CausalConv1d };
  readonly out: { readonly norm: nn.RMSNorm; readonly gate: nn.Linear; readonly out: nn.Linear };
  readonly norm2: nn.RMSNorm;
  readonly mlp: nn.SwiGLU;
}

/** A mixer block's decode state: the conv cache [K − 1, 3D] and the memory (CPU tensors owned by the decoder). */
export interface MixerState {
  conv: Tensor;
  memory: Tensor;
}

/** Frees the state tensors of mixer blocks. */
export function disposeMixerStates(states: readonly MixerState[] | null): void {
  for (const s of states ?? []) {
    s.conv.dispose();
    s.memory.dispose();
  }
}

/**
 * The host buffers of a fused decode step over a model's shell: the hidden rows x [n, D] (grown as
 * needed), a logits scratch [n, V] and ones for norms without a scale. Used by FusedShellDecoder
 * and by HopeLM's FusedHopeState (hope-decode.ts).
 */
export class DecodeRows {
  private x: FloatArray;
  private logits: FloatArray;
  private ones: FloatArray | null = null;

  constructor(
    private readonly shell: FusedShellParts,
    readonly dtype: 'float32' | 'float64',
  ) {
    this.x = this.alloc(shell.dim);
    this.logits = this.alloc(shell.vocabSize);
  }

  alloc(n: number): FloatArray {
    return this.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  }

  /** An RMSNorm's scale (ones for a norm without one). */
  normWeight(norm: nn.RMSNorm, size: number): FloatArray {
    if (norm.weight !== null) return arr(norm.weight);
    if (this.ones === null || this.ones.length < size) this.ones = this.alloc(size).fill(1);
    return this.ones.subarray(0, size);
  }

  /** x [n, D]: the embedding rows of `ids` (ids already checked against V). */
  embed(ids: ArrayLike<number>): FloatArray {
    const d = this.shell.dim;
    const n = ids.length;
    if (this.x.length < n * d) this.x = this.alloc(n * d);
    const x = this.x.subarray(0, n * d);
    const table = arr(this.shell.embed.weight); // [V, D]
    for (let i = 0; i < n; i++) x.set(table.subarray(ids[i]! * d, (ids[i]! + 1) * d), i * d);
    return x;
  }

  /** logits [n, V] = RMSNorm_F(x) · headᵀ (`native.decodeHead`) into `out`, or the scratch. */
  head(x: FloatArray, n: number, out?: FloatArray): FloatArray {
    const { dim: d, vocabSize: vocab, normF, head } = this.shell;
    if (out === undefined) {
      if (this.logits.length < n * vocab) this.logits = this.alloc(n * vocab);
      out = this.logits.subarray(0, n * vocab);
    }
    native.decodeHead(
      { x, norm: this.normWeight(normF, d), head: arr(head.weight), logits: out },
      { tokens: n, d, vocab, eps: normF.eps },
    );
    return out;
  }
}

export abstract class FusedShellDecoder implements StepDecoder {
  private pos = 0;
  private disposed = false;
  private readonly rows: DecodeRows;
  protected readonly dtype: 'float32' | 'float64';

  protected constructor(
    private readonly shell: FusedShellParts,
    private readonly blocker: () => string | null,
  ) {
    const why = blocker();
    if (why !== null) throw new Error(`${shell.label} fused decoder: ${why}`);
    this.dtype = shell.embed.weight.dtype as 'float32' | 'float64';
    this.rows = new DecodeRows(shell, this.dtype);
  }

  get position(): number {
    return this.pos;
  }

  /**
   * Consumes `ids` and returns the logits of every fed position, [n, V] in the model's dtype on
   * the CPU (the caller owns the tensor). Row i equals `forward`'s row at position `position + i`.
   */
  step(ids: Int32Array | readonly number[]): Tensor {
    const n = this.check(ids);
    const logits = emptyTensor([n, this.shell.vocabSize], this.dtype, 'cpu', false);
    this.run(ids, arr(logits));
    return logits;
  }

  /** Consumes `ids`; returns the logits (Float32Array [V]) for the token after the last one. */
  feed(ids: Int32Array): Float32Array {
    const n = this.check(ids);
    const v = this.shell.vocabSize;
    const logits = this.run(ids);
    return Float32Array.from(logits.subarray((n - 1) * v));
  }

  dispose(): void {
    if (this.disposed) return;
    this.freeState();
    this.disposed = true;
  }

  /** Runs x [n, D] (positions `pos`..) through every block, one native call each, in place. */
  protected abstract runBlocks(x: FloatArray, n: number, pos: number): void;

  /** Frees the per-block state tensors. */
  protected abstract freeState(): void;

  /** An RMSNorm's scale (ones for a norm without one). */
  protected normWeight(norm: nn.RMSNorm, size: number): FloatArray {
    return this.rows.normWeight(norm, size);
  }

  /**
   * The operands a mixer block's native step shares (decodeDeltaNetBlock, decodeTitansBlock):
   * norms, qkv projection and conv, the output gate and projection, the MLP and the state.
   */
  protected mixerArrays(b: FusedMixerBlock, heads: number, s: MixerState) {
    const d = this.shell.dim;
    return {
      norm1: this.normWeight(b.norm1, d),
      wQkv: arr(b.qkv.proj.weight),
      conv: arr(b.qkv.conv.weight),
      outNorm: this.normWeight(b.out.norm, d / heads),
      wGateOut: arr(b.out.gate.weight),
      wOut: arr(b.out.out.weight),
      norm2: this.normWeight(b.norm2, d),
      wGate: arr(b.mlp.gate.weight),
      wUp: arr(b.mlp.up.weight),
      wDown: arr(b.mlp.down.weight),
      convCache: arr(s.conv),
      memory: arr(s.memory),
    };
  }

  /** Validates a feed (ids in [0, V), at least one) and the model's state; returns n. */
  private check(ids: Int32Array | readonly number[]): number {
    const label = `${this.shell.label} decoder`;
    if (this.disposed) throw new Error(`${label}: used after dispose()`);
    const n = ids.length;
    if (n < 1) throw new RangeError(`${label}: feed needs at least one id`);
    const v = this.shell.vocabSize;
    for (let i = 0; i < n; i++) {
      const id = ids[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= v)
        throw new RangeError(`${label}: token id ${id} at index ${i} is outside [0, ${v})`);
    }
    const why = this.blocker();
    if (why !== null || this.shell.embed.weight.dtype !== this.dtype)
      throw new Error(
        `${label}: the model changed under the fused decoder (${why ?? 'dtype'}); create a new decoder`,
      );
    return n;
  }

  /** Embeds ids, runs the blocks and the head into logits [n, V] (`out`, or the scratch). */
  private run(ids: Int32Array | readonly number[], out?: FloatArray): FloatArray {
    const x = this.rows.embed(ids); // [n, D]
    this.runBlocks(x, ids.length, this.pos);
    const logits = this.rows.head(x, ids.length, out);
    this.pos += ids.length;
    return logits;
  }
}
