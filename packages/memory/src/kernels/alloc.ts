/** Allocation helper: a zeroed array of the same dtype as `like`. */
import type { FloatArray } from './shape.js';

/** New zeroed array with the dtype of `like` and `n` elements. */
export function allocLike<A extends FloatArray>(like: A, n: number): A {
  return (like instanceof Float32Array ? new Float32Array(n) : new Float64Array(n)) as A;
}
