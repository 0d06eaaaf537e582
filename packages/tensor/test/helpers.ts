/**
 * Test helpers: deterministic random data independent of @nl/tensor's generator (mulberry32),
 * and a float64 JS reference for broadcast elementwise maths.
 */
import { fromTypedArray, type Tensor } from '../src/index.js';

/** mulberry32 in [-1, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

export const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** A float64 (default) tensor of `shape` with values in [lo, hi). */
export function rt(
  shape: number[],
  seed: number,
  opts: { lo?: number; hi?: number; dtype?: 'float32' | 'float64' } = {},
): Tensor {
  const r = rng(seed);
  const { lo = -1, hi = 1, dtype = 'float64' } = opts;
  const arr = dtype === 'float64' ? new Float64Array(numel(shape)) : new Float32Array(numel(shape));
  for (let i = 0; i < arr.length; i++) arr[i] = lo + ((r() + 1) / 2) * (hi - lo);
  return fromTypedArray(arr, shape);
}

/** Row-major multi-index of flat index i. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

/** Flat index of a broadcast operand for output multi-index `idx`. */
export function bIndex(idx: number[], shape: readonly number[]): number {
  const off = idx.length - shape.length;
  let f = 0;
  for (let d = 0; d < shape.length; d++) f = f * shape[d] + (shape[d] === 1 ? 0 : idx[d + off]);
  return f;
}

/** Broadcast shape (reference implementation). */
export function bShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Reference broadcast binary op in float64. */
export function refBinary(
  a: Tensor,
  b: Tensor,
  f: (x: number, y: number) => number,
): { shape: number[]; data: Float64Array } {
  const shape = bShape(a.shape, b.shape);
  const ad = a.dataSync();
  const bd = b.dataSync();
  const out = new Float64Array(numel(shape));
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    out[i] = f(ad[bIndex(idx, a.shape)], bd[bIndex(idx, b.shape)]);
  }
  return { shape, data: out };
}
