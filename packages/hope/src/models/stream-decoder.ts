/**
 * `StreamDecoder`: the batch-1 streaming decoder of the block LMs (contract `Decoder`). Each
 * `feed` runs only the new ids through the blocks, continuing every block's cache (KV cache,
 * conv cache, memory state), so the prefix is never recomputed. Caches are kept alive between
 * calls and disposed when replaced or on `dispose()`.
 */
import { Tensor, keep, narrow, noGrad, tensor, tidy, type Device } from '@nl/tensor';
import type { Decoder } from './contract.js';
import type { BlockCache, LMBlock } from './common.js';

/** What the decoder needs from its model. */
export interface StreamParts {
  vocabSize: number;
  /** Where the model lives: the fed ids are uploaded there (default 'cpu'). */
  device?: Device;
  /** ids Int32 [1, T] → [1, T, D] */
  embed(ids: Tensor): Tensor;
  blocks: LMBlock[];
  /** [1, T, D] → logits [1, T, V] (final norm + head) */
  head(x: Tensor): Tensor;
}

/** Every tensor reachable in a plain object / array (the tensors of a cache). */
export function tensorsIn(value: unknown, out: Set<Tensor> = new Set(), depth = 0): Set<Tensor> {
  if (depth > 8 || value === null || typeof value !== 'object') return out;
  if (value instanceof Tensor) out.add(value);
  else if (Array.isArray(value)) for (const v of value) tensorsIn(v, out, depth + 1);
  else for (const v of Object.values(value)) tensorsIn(v, out, depth + 1);
  return out;
}

/** A `Decoder` that also returns the logits of every fed position (the block LMs' decoders). */
export interface StepDecoder extends Decoder {
  /**
   * Consumes `ids` and returns the logits of every fed position, [T, V] in the model's dtype
   * (the caller owns the tensor). Row i equals `forward`'s row at position `position + i`.
   */
  step(ids: Int32Array | readonly number[]): Tensor;
}

export class StreamDecoder implements StepDecoder {
  private caches: (BlockCache | null)[];
  private pos = 0;
  private disposed = false;

  constructor(
    private readonly label: string,
    private readonly parts: StreamParts,
  ) {
    this.caches = parts.blocks.map(() => null);
  }

  get position(): number {
    return this.pos;
  }

  /**
   * Consumes `ids` and returns the logits of every fed position, [T, V] in the model's dtype
   * (the caller owns the tensor). Row i equals `forward`'s row at position `position + i`.
   */
  step(ids: Int32Array | readonly number[]): Tensor {
    if (this.disposed) throw new Error(`${this.label} decoder: used after dispose()`);
    const n = ids.length;
    if (n < 1) throw new RangeError(`${this.label} decoder: feed needs at least one id`);
    const v = this.parts.vocabSize;
    for (let i = 0; i < n; i++) {
      const id = ids[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= v)
        throw new RangeError(`${this.label} decoder: token id ${id} at index ${i} is outside [0, ${v})`);
    }
    const old = this.caches;
    const { logits, caches } = noGrad(() =>
      tidy(() => {
        const device = this.parts.device ?? 'cpu';
        let x = this.parts.embed(tensor(Array.from(ids), { shape: [1, n], dtype: 'int32', device })); // [1, n, D]
        const next: BlockCache[] = [];
        this.parts.blocks.forEach((b, i) => {
          const r = b.stream(x, old[i]!);
          x = r.y;
          next.push(r.cache);
        });
        for (const t of tensorsIn(next)) keep(t);
        return { logits: this.parts.head(x).reshape([n, v]), caches: next }; // [n, V]
      }),
    );
    const live = tensorsIn(caches);
    for (const t of tensorsIn(old)) if (!live.has(t) && !t.isDisposed) t.dispose();
    this.caches = caches;
    this.pos += n;
    return logits;
  }

  /** Consumes `ids`; returns the logits (Float32Array [V]) for the token after the last one. */
  feed(ids: Int32Array): Float32Array {
    const logits = this.step(ids);
    try {
      const n = logits.shape[0]!;
      // Sampling needs the next token's logits on the host: the one device -> host transfer of a
      // decode step, and only that row ([V]) is read.
      return noGrad(() => tidy(() => Float32Array.from(narrow(logits, 0, n - 1, 1).dataSync())));
    } finally {
      logits.dispose();
    }
  }

  dispose(): void {
    if (this.disposed) return;
    for (const t of tensorsIn(this.caches)) if (!t.isDisposed) t.dispose();
    this.caches = this.caches.map(() => null);
    this.disposed = true;
  }
}
