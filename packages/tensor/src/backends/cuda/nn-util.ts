/**
 * Plumbing of the nn CUDA kernels (./nn.ts, ./nn-index.ts): device operands as the
 * (pointer, element offset) pairs the nn entry points take, and a scope of temporary contiguous /
 * converted copies that the kernel frees once its work is queued (frees are stream-ordered).
 */
import type { CudaDType } from '@nl/native';
import type { DType } from '../../dtype.js';
import { empty_ } from '../../ops/helpers.js';
import type { Tensor } from '../../tensor.js';
import { cudaDTypeOf, cudaPointer } from '../cuda.js';

/** `t` as a (device pointer, element offset) pair; (null, 0) for an absent operand. */
export function dev(t: Tensor): [number, number];
export function dev(t: Tensor | null): [number | null, number];
export function dev(t: Tensor | null): [number | null, number] {
  return t === null ? [null, 0] : [cudaPointer(t.storage.buffer), t.offset];
}

/** The dtype code of a tensor. */
export function dt(t: Tensor): CudaDType {
  return cudaDTypeOf(t.dtype);
}

/** Temporaries of one kernel call: copies made here are disposed by `free()`. */
export class Temps {
  readonly #made: Tensor[] = [];

  /** `t`, or a contiguous copy of it. */
  contig(t: Tensor): Tensor {
    if (t.isContiguous) return t;
    const c = t.contiguous();
    this.#made.push(c);
    return c;
  }

  /** `t` as a contiguous tensor of `like`'s dtype (converted when they differ). */
  like(t: Tensor, like: Tensor): Tensor {
    if (t.dtype === like.dtype) return this.contig(t);
    const c = t.to(like.dtype);
    this.#made.push(c);
    return this.contig(c);
  }

  /** A fresh contiguous tensor on `on`'s device (not zeroed unless `zero`); not freed here. */
  out(shape: readonly number[], dtype: DType, on: Tensor, zero = false): Tensor {
    return empty_(shape, dtype, on.device, zero);
  }

  /**
   * Float64 scratch for the column sums (weight / bias gradients) of a backward over `rows` rows
   * and up to `cols` columns, as the (pointer, offset, length) the entry points take: one chunk
   * per 256 rows, at most 64 (native kernels/nn_rows.h col_chunks); none for a single chunk.
   */
  colScratch(rows: number, cols: number, on: Tensor): [number | null, number, number] {
    const chunks = Math.min(64, Math.ceil(rows / 256));
    if (chunks <= 1 || cols === 0) return [null, 0, 0];
    const s = empty_([chunks * cols], 'float64', on.device, false);
    this.#made.push(s);
    return [...dev(s), chunks * cols];
  }

  free(): void {
    for (const t of this.#made) t.dispose();
    this.#made.length = 0;
  }
}
