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

export class Storage {
  /** Tracked tensors using this storage. */
  private refs = 0;
  readonly bytes: number;

  constructor(
    readonly data: TypedArray,
    readonly dtype: DType,
    readonly device: Device,
  ) {
    this.bytes = data.length * itemSize(dtype);
  }

  /** A tracked tensor starts using this storage. */
  retain(): void {
    if (this.refs++ === 0) stats.bytes += this.bytes;
  }

  /** A tracked tensor stopped using this storage. */
  release(): void {
    if (this.refs > 0 && --this.refs === 0) stats.bytes -= this.bytes;
  }
}
