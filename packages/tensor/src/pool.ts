/**
 * A recycling pool for large CPU buffers. Allocating a fresh multi-megabyte typed array costs as
 * much as the op that fills it (the OS zero-fills new pages), so storages of >= 16Ki elements
 * whose last tracked tensor is disposed AND whose last autograd alias is released go back here,
 * and ops that overwrite their whole output take them out again. Arrays handed in by users
 * (`fromTypedArray`) are never pooled. Holding a typed array from `view`/`rawView()` after
 * disposing its tensor is therefore a use-after-free: the memory may be reused by another tensor.
 * Bounded to 256 MiB; `clearPool()` drops everything.
 */
import type { DType, TypedArray } from './dtype.js';
import { allocArray, itemSize } from './dtype.js';

/** Buffers smaller than this (in elements) are not pooled. */
export const POOL_MIN_ELEMENTS = 1 << 14;
const MAX_POOLED_BYTES = 256 * 2 ** 20;

const free = new Map<string, TypedArray[]>();
let pooledBytes = 0;
let hits = 0;
let misses = 0;

/** A buffer of `n` elements; zero-filled unless `zero` is false (the caller overwrites it all). */
export function takeBuffer(dtype: DType, n: number, zero: boolean): TypedArray {
  if (n >= POOL_MIN_ELEMENTS) {
    const list = free.get(`${dtype}:${n}`);
    const buf = list?.pop();
    if (buf !== undefined) {
      hits++;
      pooledBytes -= n * itemSize(dtype);
      if (zero) buf.fill(0);
      return buf;
    }
    misses++;
  }
  return allocArray(dtype, n);
}

/** Returns a buffer nobody references any more. */
export function giveBuffer(data: TypedArray, dtype: DType): void {
  const n = data.length;
  const bytes = n * itemSize(dtype);
  if (n < POOL_MIN_ELEMENTS || pooledBytes + bytes > MAX_POOLED_BYTES) return;
  const key = `${dtype}:${n}`;
  let list = free.get(key);
  if (list === undefined) {
    list = [];
    free.set(key, list);
  }
  list.push(data);
  pooledBytes += bytes;
}

/** Drops every pooled buffer. */
export function clearPool(): void {
  free.clear();
  pooledBytes = 0;
}

/** Pool statistics: bytes held, and how many pooled-size allocations were served from it. */
export function poolStats(): { pooledBytes: number; hits: number; misses: number } {
  return { pooledBytes, hits, misses };
}
