/**
 * Embedding kernels on flat typed arrays: the forward gathers rows of the table, the backward
 * scatter-adds the upstream rows back into a zero table (repeated ids accumulate).
 *
 * Shapes: weight / dWeight [V, D], ids [M] int32 (M = product of the id tensor's dims),
 * out / g [M, D].
 */
import type { FloatArray } from './cross-entropy.js';

/** Throws a RangeError naming the first id outside [0, V). */
export function checkIds(ids: Int32Array, v: number): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id < 0 || id >= v) {
      throw new RangeError(`embedding: index ${id} at position ${i} is out of range [0, ${v})`);
    }
  }
}

/** out[m, :] = weight[ids[m], :]. */
export function embeddingForward(weight: FloatArray, ids: Int32Array, d: number, out: FloatArray): void {
  for (let m = 0; m < ids.length; m++) {
    const src = ids[m] * d;
    out.set(weight.subarray(src, src + d), m * d);
  }
}

/** dWeight = 0; dWeight[ids[m], :] += g[m, :] (scatter-add). */
export function embeddingBackward(g: FloatArray, ids: Int32Array, d: number, dWeight: FloatArray): void {
  dWeight.fill(0);
  for (let m = 0; m < ids.length; m++) {
    const dst = ids[m] * d;
    const src = m * d;
    for (let j = 0; j < d; j++) dWeight[dst + j] += g[src + j];
  }
}
