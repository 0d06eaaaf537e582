/**
 * Storage: the typed array (CPU) that one or more tensors view. Views (reshape, permute, slice,
 * expand...) share a Storage and hold a reference each; the bytes count in `memory()` until the
 * last *tracked* tensor that uses the storage is disposed. Internal aliases kept by the autograd
 * graph hold the array only (no count), so disposing intermediates never breaks a later backward.
 */
import type { DType, TypedArray } from './dtype.js';
import { itemSize } from './dtype.js';
import type { Device } from './device.js';
import { stats } from './memory-stats.js';
import { giveBuffer } from './pool.js';

/** Pooled buffers -> the storage that owns them (to pin them when re-wrapped). */
const owners = new WeakMap<ArrayBufferLike, Storage>();

/**
 * Marks the memory behind `arr` as never recyclable when it belongs to a pooled storage, so a
 * tensor made with `fromTypedArray(t.rawView())` can outlive `t` safely.
 */
export function pinBuffer(arr: TypedArray): void {
  owners.get(arr.buffer)?.pin();
}

export class Storage {
  /** Tracked tensors using this storage. */
  private refs = 0;
  /** Autograd aliases holding the data for a backward. */
  private aliasRefs = 0;
  private recycled = false;
  /** Bumped by in-place writes (fill_, zero_, copy_); autograd checks it before using saved values. */
  version = 0;
  readonly bytes: number;

  /**
   * @param poolable - the array was allocated by an op (not handed in by a user) and may be
   *   recycled once no tracked tensor and no autograd alias uses it
   */
  constructor(
    readonly data: TypedArray,
    readonly dtype: DType,
    readonly device: Device,
    private poolable = false,
  ) {
    this.bytes = data.length * itemSize(dtype);
    if (poolable) owners.set(data.buffer, this);
  }

  /** Never recycle this storage (its memory is now also used outside it). */
  pin(): void {
    this.poolable = false;
  }

  /** A tracked tensor starts using this storage. */
  retain(): void {
    if (this.refs++ === 0) stats.bytes += this.bytes;
  }

  /** A tracked tensor stopped using this storage. */
  release(): void {
    if (this.refs > 0 && --this.refs === 0) {
      stats.bytes -= this.bytes;
      this.maybeRecycle();
    }
  }

  /** An autograd alias starts holding the data. */
  retainAlias(): void {
    this.aliasRefs++;
  }

  /** An autograd alias was released (its node ran backward). */
  releaseAlias(): void {
    if (this.aliasRefs > 0 && --this.aliasRefs === 0) this.maybeRecycle();
  }

  private maybeRecycle(): void {
    if (this.poolable && !this.recycled && this.refs === 0 && this.aliasRefs === 0) {
      this.recycled = true;
      giveBuffer(this.data, this.dtype);
    }
  }
}
