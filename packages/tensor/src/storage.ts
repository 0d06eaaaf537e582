/**
 * Storage: the backend-owned buffer that one or more tensors view. Views (reshape, permute, slice,
 * expand...) share a Storage and hold a reference each; the bytes count in `memory()` (per device)
 * until the last *tracked* tensor that uses the storage is disposed. Internal aliases kept by the
 * autograd graph hold the buffer only (no count), so disposing intermediates never breaks a later
 * backward. The buffer is opaque: kernels open it (src/backend/host.ts), the host copies it out
 * through the backend (`toHost`).
 */
import type { DType, TypedArray } from './dtype.js';
import { itemSize } from './dtype.js';
import type { Backend, Device, DeviceBuffer } from './backend/types.js';
import { backendFor } from './backend/devices.js';
import { deviceStats } from './memory-stats.js';

/** Pooled CPU buffers -> the storage that owns them (to pin them when re-wrapped). */
const owners = new WeakMap<ArrayBufferLike, Storage>();

/**
 * Marks the memory behind `arr` as never recyclable when it belongs to a pooled CPU storage, so a
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
  private released = false;
  /** True once the buffer went back to its backend (no tracked tensor nor autograd alias left). */
  get freed(): boolean {
    return this.released;
  }
  /** Bumped by in-place writes (fill_, zero_, copy_); autograd checks it before using saved values. */
  version = 0;
  readonly bytes: number;
  readonly backend: Backend;

  /**
   * @param length - elements in the buffer
   * @param poolable - the buffer was allocated by an op (not handed in by a user) and may be
   *   recycled once no tracked tensor and no autograd alias uses it
   */
  constructor(
    readonly buffer: DeviceBuffer,
    readonly length: number,
    readonly dtype: DType,
    readonly device: Device,
    private poolable = false,
  ) {
    this.backend = backendFor(device);
    this.bytes = length * itemSize(dtype);
    if (poolable && device === 'cpu') owners.set((buffer as unknown as TypedArray).buffer, this);
  }

  /** Never recycle this storage (its memory is now also used outside it). */
  pin(): void {
    this.poolable = false;
  }

  /** A tracked tensor starts using this storage. */
  retain(): void {
    if (this.refs++ === 0) {
      const s = deviceStats(this.device);
      s.bytes += this.bytes;
    }
  }

  /** A tracked tensor stopped using this storage. */
  release(): void {
    if (this.refs > 0 && --this.refs === 0) {
      deviceStats(this.device).bytes -= this.bytes;
      this.maybeFree();
    }
  }

  /** An autograd alias starts holding the data. */
  retainAlias(): void {
    this.aliasRefs++;
  }

  /** An autograd alias was released (its node ran backward). */
  releaseAlias(): void {
    if (this.aliasRefs > 0 && --this.aliasRefs === 0) this.maybeFree();
  }

  private maybeFree(): void {
    if (!this.released && this.refs === 0 && this.aliasRefs === 0) {
      this.released = true;
      this.backend.release(this.buffer, this.dtype, this.poolable);
    }
  }
}
