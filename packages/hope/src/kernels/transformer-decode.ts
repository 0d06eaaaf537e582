/**
 * `FusedTransformerDecoder`: the batch-1 streaming decoder of TransformerLM on the CPU, each block
 * one native call (`native.decodeAttentionBlock`: RMSNorm, QKV, RoPE, KV-cache append, causal
 * attention over the cache, W_o, residual, RMSNorm, SwiGLU, residual) and the final norm + head one
 * more (`native.decodeHead`). A token costs L + 1 native calls instead of dozens of tensor ops per
 * block. Same contract and results as the tensor-op `StreamDecoder` (the reference, still used for
 * other devices, for dtypes other than float32 unless asked, and with `decoder({ fused: false })`).
 *
 * Each block's KV cache is a pair of CPU tensors k, v [H, capacity, D/H] (RoPE applied) with a
 * preallocated capacity that doubles when full (rows copied within host memory, no transfer);
 * the weights are read in place from the parameters at every step, so training between steps is
 * seen like the reference decoder sees it.
 */
import { hasNative, native } from '@nl/native';
import { keep, type Tensor } from '@nl/tensor';
import { elementsOf, emptyTensor } from '@nl/tensor/internal';
import type { nn } from '@nl/tensor';
import type { StepDecoder } from '../models/stream-decoder.js';

type FloatArray = Float32Array | Float64Array;

/** Cache rows per head of a new decoder (doubled as needed). */
export const INITIAL_KV_CAPACITY = 64;

/** What the fused decoder reads from a Transformer++ block. */
export interface FusedAttentionBlock {
  readonly heads: number;
  readonly headDim: number;
  readonly ropeBase: number;
  readonly norm1: nn.RMSNorm;
  readonly q: nn.Linear;
  readonly k: nn.Linear;
  readonly v: nn.Linear;
  readonly o: nn.Linear;
  readonly norm2: nn.RMSNorm;
  readonly mlp: nn.SwiGLU;
}

/** What the fused decoder reads from its model. */
export interface FusedTransformerParts {
  label: string;
  vocabSize: number;
  dim: number;
  embed: nn.Embedding;
  blocks: readonly FusedAttentionBlock[];
  normF: nn.RMSNorm;
  head: nn.Linear;
}

/** Why the fused decoder cannot run `parts` (null when it can). */
export function fusedDecodeBlocker(parts: FusedTransformerParts): string | null {
  if (!hasNative()) return 'the native addon is not loaded';
  if (typeof (native as Partial<typeof native>).decodeAttentionBlock !== 'function')
    return 'the native addon has no decodeAttentionBlock (rebuild native/)';
  const w = parts.embed.weight;
  if (w.device !== 'cpu') return `the model is on '${w.device}', the fused decoder runs on 'cpu'`;
  if (w.dtype !== 'float32' && w.dtype !== 'float64')
    return `the model's dtype is ${w.dtype}, the fused decoder runs float32 and float64`;
  return null;
}

interface KV {
  k: Tensor; // [H, capacity, Dh]
  v: Tensor;
}

export class FusedTransformerDecoder implements StepDecoder {
  private caches: KV[] = [];
  private capacity = 0;
  private pos = 0;
  private disposed = false;
  private x: FloatArray; // [n, D] hidden rows of the current step
  private readonly dtype: 'float32' | 'float64';
  private ones: FloatArray | null = null;
  private logits: FloatArray; // [n, V] scratch of feed()

  constructor(private readonly parts: FusedTransformerParts) {
    const why = fusedDecodeBlocker(parts);
    if (why !== null) throw new Error(`${parts.label} fused decoder: ${why}`);
    this.dtype = parts.embed.weight.dtype as 'float32' | 'float64';
    this.x = this.alloc(parts.dim);
    this.logits = this.alloc(parts.vocabSize);
  }

  get position(): number {
    return this.pos;
  }

  /** Rows per head of the KV caches now (0 before the first feed). */
  get kvCapacity(): number {
    return this.capacity;
  }

  /**
   * Consumes `ids` and returns the logits of every fed position, [n, V] in the model's dtype on
   * the CPU (the caller owns the tensor). Row i equals `forward`'s row at position `position + i`.
   */
  step(ids: Int32Array | readonly number[]): Tensor {
    const n = this.check(ids);
    const logits = emptyTensor([n, this.parts.vocabSize], this.dtype, 'cpu', false);
    this.run(ids, n, elementsOf(logits) as FloatArray);
    return logits;
  }

  /** Consumes `ids`; returns the logits (Float32Array [V]) for the token after the last one. */
  feed(ids: Int32Array): Float32Array {
    const n = this.check(ids);
    const v = this.parts.vocabSize;
    if (this.logits.length < n * v) this.logits = this.alloc(n * v);
    const logits = this.logits.subarray(0, n * v);
    this.run(ids, n, logits);
    return Float32Array.from(logits.subarray((n - 1) * v));
  }

  dispose(): void {
    if (this.disposed) return;
    this.freeCaches();
    this.disposed = true;
  }

  private alloc(n: number): FloatArray {
    return this.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  }

  /** Validates a feed (ids in [0, V), at least one) and the model's state; returns n. */
  private check(ids: Int32Array | readonly number[]): number {
    const label = `${this.parts.label} decoder`;
    if (this.disposed) throw new Error(`${label}: used after dispose()`);
    const n = ids.length;
    if (n < 1) throw new RangeError(`${label}: feed needs at least one id`);
    const v = this.parts.vocabSize;
    for (let i = 0; i < n; i++) {
      const id = ids[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= v)
        throw new RangeError(`${label}: token id ${id} at index ${i} is outside [0, ${v})`);
    }
    const why = fusedDecodeBlocker(this.parts);
    if (why !== null || this.parts.embed.weight.dtype !== this.dtype)
      throw new Error(
        `${label}: the model changed under the fused decoder (${why ?? 'dtype'}); create a new decoder`,
      );
    return n;
  }

  /** Embeds ids, runs every block (one native call each) and the head into logits [n, V]. */
  private run(ids: Int32Array | readonly number[], n: number, logits: FloatArray): void {
    const { dim: d, vocabSize: vocab } = this.parts;
    this.reserve(this.pos + n);
    if (this.x.length < n * d) this.x = this.alloc(n * d);
    const x = this.x.subarray(0, n * d); // [n, D]
    const table = arr(this.parts.embed.weight); // [V, D]
    for (let i = 0; i < n; i++) x.set(table.subarray(ids[i]! * d, (ids[i]! + 1) * d), i * d);
    this.parts.blocks.forEach((b, l) => {
      const kv = this.caches[l]!;
      native.decodeAttentionBlock(
        {
          x,
          norm1: this.normWeight(b.norm1),
          wq: arr(b.q.weight),
          wk: arr(b.k.weight),
          wv: arr(b.v.weight),
          wo: arr(b.o.weight),
          norm2: this.normWeight(b.norm2),
          wGate: arr(b.mlp.gate.weight),
          wUp: arr(b.mlp.up.weight),
          wDown: arr(b.mlp.down.weight),
          kCache: arr(kv.k),
          vCache: arr(kv.v),
        },
        {
          tokens: n,
          d,
          heads: b.heads,
          hidden: b.mlp.gate.weight.shape[0]!,
          position: this.pos,
          capacity: this.capacity,
          eps: b.norm1.eps,
          ropeBase: b.ropeBase,
        },
      );
    });
    const { normF, head } = this.parts;
    native.decodeHead(
      { x, norm: this.normWeight(normF), head: arr(head.weight), logits },
      { tokens: n, d, vocab, eps: normF.eps },
    );
    this.pos += n;
  }

  /** An RMSNorm's scale [D] (ones for a norm without one). */
  private normWeight(norm: nn.RMSNorm): FloatArray {
    if (norm.weight !== null) return arr(norm.weight);
    if (this.ones === null) this.ones = this.alloc(this.parts.dim).fill(1);
    return this.ones;
  }

  /** Grows every block's cache (doubling) to hold `rows` rows per head, keeping the rows so far. */
  private reserve(rows: number): void {
    if (rows <= this.capacity) return;
    let cap = Math.max(this.capacity, INITIAL_KV_CAPACITY);
    while (cap < rows) cap *= 2;
    const next = this.parts.blocks.map((b) => {
      const shape = [b.heads, cap, b.headDim];
      const kv = {
        k: keep(emptyTensor(shape, this.dtype, 'cpu', false)),
        v: keep(emptyTensor(shape, this.dtype, 'cpu', false)),
      };
      return { b, kv };
    });
    next.forEach(({ b, kv }, l) => {
      const old = this.caches[l];
      if (old === undefined) return;
      const dh = b.headDim;
      for (const key of ['k', 'v'] as const) {
        const src = arr(old[key]);
        const dst = arr(kv[key]);
        for (let h = 0; h < b.heads; h++)
          dst.set(src.subarray(h * this.capacity * dh, (h * this.capacity + this.pos) * dh), h * cap * dh);
      }
    });
    this.freeCaches();
    this.caches = next.map(({ kv }) => kv);
    this.capacity = cap;
  }

  private freeCaches(): void {
    for (const kv of this.caches) {
      kv.k.dispose();
      kv.v.dispose();
    }
    this.caches = [];
  }
}

/** The elements of contiguous tensors opened so far (a tensor's storage never changes). */
const opened = new WeakMap<Tensor, FloatArray>();

/** A CPU tensor's elements in place (a copy only when it is not contiguous). */
function arr(t: Tensor): FloatArray {
  let a = opened.get(t);
  if (a === undefined || t.isDisposed) {
    a = elementsOf(t) as FloatArray;
    if (t.isContiguous && !t.isDisposed) opened.set(t, a);
  }
  return a;
}
