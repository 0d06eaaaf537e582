/**
 * Index validation for the CUDA kernels: a device kernel finds the first index value outside a
 * range and the host reads back only that (position, value) pair, so a bad index throws the same
 * error as on the CPU before any kernel uses it. Each check waits for the device.
 */
import { native } from '@nl/native';
import type { DeviceBuffer } from '../../backend/types.js';
import type { Tensor } from '../../tensor.js';
import { cudaPointer } from '../cuda.js';

export interface BadIndex {
  /** row-major position in the index operand */
  position: number;
  value: number;
}

/** The first int32 element of a strided operand of `buf` outside [lo, hi), or null. */
export function firstBadIn(
  buf: DeviceBuffer,
  offset: number,
  shape: readonly number[],
  strides: readonly number[],
  lo: number,
  hi: number,
): BadIndex | null {
  const [position, value] = native.cudaCheckIndices(cudaPointer(buf), offset, shape, strides, lo, hi);
  return position < 0 ? null : { position, value };
}

/**
 * The first element (row-major) of the int32 CUDA tensor `t` whose value is outside [lo, hi), or
 * null when all are inside.
 */
export function cudaFirstBadIndex(t: Tensor, lo: number, hi: number): BadIndex | null {
  if (t.dtype !== 'int32') throw new TypeError(`cudaFirstBadIndex: index must be int32, got ${t.dtype}`);
  return firstBadIn(t.storage.buffer, t.offset, t.shape, t.strides, lo, hi);
}

/** Throws the CPU kernels' RangeError when an index of `index` is outside [-size, size). */
export function checkIndexRange(where: string, index: Tensor, dim: number, size: number): void {
  const bad = cudaFirstBadIndex(index, -size, size);
  if (bad !== null)
    throw new RangeError(`${where}: index ${bad.value} is out of range for dim ${dim} of size ${size}`);
}
