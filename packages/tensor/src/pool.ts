/**
 * A recycling pool for large CPU buffers. Allocating a fresh multi-megabyte typed array costs as
 * much as the op that fills it (the OS zero-fills new pages), so storages of >= 16Ki elements
 * whose last tracked tensor is disposed AND whose last autograd alias is released go back here,
 * and ops that overwrite their whole output take them out again. Arrays handed in by users
 * (`fromTypedArray`) are never pooled. Holding a typed array from `view`/`rawView()` after
 * disposing its tensor is therefore a use-after-free: the memory may be reused by another tensor.
 *
 * The pool holds at most `poolLimit()` bytes (default 1 GiB; `NL_POOL_MAX_MB` or `setPoolLimit`
 * change it, 0 turns pooling off). A buffer that does not fit evicts the sizes used least recently,
 * so a pool filled by one phase (say, evaluation at another length) does not lock out the next.
 * It only ever holds memory the program already used: buffers come from ops' outputs. Why 1 GiB:
 * a d 64 transformer step at [8, 513] leaves ~790 MiB of attention-sized buffers in the pool; with
 * the old 256 MiB cap the rest were allocated afresh every step, 5.5× slower on a VM where a first
 * touch costs ~11 µs per page (apps/bench `--suite transformer`, the pool-limit rows).
 */
import type { DType, TypedArray } from './dtype.js';
import { allocArray, itemSize } from './dtype.js';

/** Buffers smaller than this (in elements) are not pooled. */
export const POOL_MIN_ELEMENTS = 1 << 14;
/** The default limit on pooled bytes, when `NL_POOL_MAX_MB` is not set. */
export const DEFAULT_POOL_LIMIT_BYTES = 2 ** 30;

/** The limit that `NL_POOL_MAX_MB` (a number of MiB >= 0) asks for; the default when unset or empty. */
export function poolLimitFromEnv(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEFAULT_POOL_LIMIT_BYTES;
  const mb = Number(value);
  if (!Number.isFinite(mb) || mb < 0)
    throw new RangeError(
      `@nl/tensor: NL_POOL_MAX_MB must be a number of MiB >= 0 (0 turns the buffer pool off), got '${value}'`,
    );
  return Math.floor(mb * 2 ** 20);
}

/** Size class "dtype:n" → free buffers; Map order is least recently used first. */
const free = new Map<string, TypedArray[]>();
let limit = poolLimitFromEnv(process.env.NL_POOL_MAX_MB);
let pooledBytes = 0;
let hits = 0;
let misses = 0;
let evictions = 0;

/** Moves `key` to the most recently used end. */
function touch(key: string, list: TypedArray[]): void {
  free.delete(key);
  free.set(key, list);
}

/** Drops least recently used buffers until `pooledBytes + need <= limit` (or nothing is left). */
function evictFor(need: number): void {
  for (const [key, list] of free) {
    if (pooledBytes + need <= limit) return;
    while (list.length > 0 && pooledBytes + need > limit) {
      const buf = list.pop()!;
      pooledBytes -= buf.byteLength;
      evictions++;
    }
    if (list.length === 0) free.delete(key);
  }
}

/** A buffer of `n` elements; zero-filled unless `zero` is false (the caller overwrites it all). */
export function takeBuffer(dtype: DType, n: number, zero: boolean): TypedArray {
  if (n >= POOL_MIN_ELEMENTS) {
    const key = `${dtype}:${n}`;
    const list = free.get(key);
    const buf = list?.pop();
    if (buf !== undefined) {
      hits++;
      pooledBytes -= n * itemSize(dtype);
      if (list!.length === 0) free.delete(key);
      else touch(key, list!);
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
  if (n < POOL_MIN_ELEMENTS || bytes > limit) return;
  evictFor(bytes);
  const key = `${dtype}:${n}`;
  const list = free.get(key) ?? [];
  list.push(data);
  touch(key, list);
  pooledBytes += bytes;
}

/** Drops every pooled buffer. */
export function clearPool(): void {
  free.clear();
  pooledBytes = 0;
}

/**
 * Sets the most bytes the buffer pool holds (0 turns it off) and evicts down to it; returns the
 * previous limit. Throws naming the value unless it is a finite number >= 0.
 */
export function setPoolLimit(bytes: number): number {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes < 0)
    throw new RangeError(
      `setPoolLimit: bytes must be a finite number >= 0 (0 turns the pool off), got ${String(bytes)}`,
    );
  const previous = limit;
  limit = Math.floor(bytes);
  evictFor(0);
  return previous;
}

/** The most bytes the buffer pool holds. */
export function poolLimit(): number {
  return limit;
}

/**
 * Pool statistics: bytes held, the limit, how many pooled-size allocations were served from it
 * (hits) or not (misses), and how many buffers were evicted to stay under the limit.
 */
export function poolStats(): {
  pooledBytes: number;
  limit: number;
  hits: number;
  misses: number;
  evictions: number;
} {
  return { pooledBytes, limit, hits, misses, evictions };
}
