/**
 * `FusedTransformerDecoder`: the batch-1 streaming decoder of TransformerLM on the CPU, each block
 * one native call (`native.decodeAttentionBlock`: RMSNorm, QKV, RoPE, KV-cache append, causal
 * attention over the cache, W_o, residual, RMSNorm, SwiGLU, residual) and the final norm + head one
 * more (fused-decode.ts). A token costs L + 1 native calls instead of dozens of tensor ops per
 * block. Same contract and results as the tensor-op `StreamDecoder` (the reference, still used for
 * other devices, for dtypes other than float32 unless asked, and with `decoder({ fused: false })`).
 *
 * Each block's KV cache is a pair of CPU tensors k, v [H, capacity, D/H] (RoPE applied) with a
 * preallocated capacity that doubles when full (rows copied within host memory, no transfer);
 * the weights are read in place from the parameters at every step, so training between steps is
 * seen like the reference decoder sees it.
 */
import { native } from '@nl/native';
import { keep, type Tensor } from '@nl/tensor';
import { emptyTensor } from '@nl/tensor/internal';
import type { nn } from '@nl/tensor';
import {
  FusedShellDecoder,
  arr,
  shellBlocker,
  type FloatArray,
  type FusedShellParts,
} from './fused-decode.js';

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
export interface FusedTransformerParts extends FusedShellParts {
  blocks: readonly FusedAttentionBlock[];
}

/** Why the fused decoder cannot run `parts` (null when it can). */
export function fusedDecodeBlocker(parts: FusedTransformerParts): string | null {
  return shellBlocker(parts, 'decodeAttentionBlock');
}

interface KV {
  k: Tensor; // [H, capacity, Dh]
  v: Tensor;
}

export class FusedTransformerDecoder extends FusedShellDecoder {
  private caches: KV[] = [];
  private capacity = 0;

  constructor(private readonly parts: FusedTransformerParts) {
    super(parts, () => fusedDecodeBlocker(parts));
  }

  /** Rows per head of the KV caches now (0 before the first feed). */
  get kvCapacity(): number {
    return this.capacity;
  }

  protected runBlocks(x: FloatArray, n: number, pos: number): void {
    const d = this.parts.dim;
    this.reserve(pos, pos + n);
    this.parts.blocks.forEach((b, l) => {
      const kv = this.caches[l]!;
      native.decodeAttentionBlock(
        {
          x,
          norm1: this.normWeight(b.norm1, d),
          wq: arr(b.q.weight),
          wk: arr(b.k.weight),
          wv: arr(b.v.weight),
          wo: arr(b.o.weight),
          norm2: this.normWeight(b.norm2, d),
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
          position: pos,
          capacity: this.capacity,
          eps: b.norm1.eps,
          ropeBase: b.ropeBase,
        },
      );
    });
  }

  /** Grows every block's cache (doubling) to hold `rows` rows per head, keeping the `pos` so far. */
  private reserve(pos: number, rows: number): void {
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
          dst.set(src.subarray(h * this.capacity * dh, (h * this.capacity + pos) * dh), h * cap * dh);
      }
    });
    this.freeState();
    this.caches = next.map(({ kv }) => kv);
    this.capacity = cap;
  }

  protected freeState(): void {
    for (const kv of this.caches) {
      kv.k.dispose();
      kv.v.dispose();
    }
    this.caches = [];
  }
}
