/**
 * Helpers shared by the decoder tests (decode-fused*.test.ts, hope-value-stream.test.ts): random
 * ids on the host, and the logits of a decoder fed in pieces (`step`) or one id at a time (`feed`).
 */
import { expect } from 'vitest';
import type { Tensor } from '@nl/tensor';
import { randomIds } from './models-helpers.js';

/** `n` random ids in [0, vocab) as a host array. */
export function hostIds(n: number, seed: number, vocab: number): Int32Array {
  const t = randomIds(1, n, vocab, seed);
  const out = Int32Array.from(t.dataSync());
  t.dispose();
  return out;
}

/**
 * Concatenated `step` logits of `x` fed in pieces of the given sizes (they must sum to x.length);
 * `shape(n)`, when given, is the shape each piece's logits must have.
 */
export function stepRows(
  dec: { step(ids: Int32Array): Tensor },
  x: Int32Array,
  pieces: number[],
  shape?: (n: number) => number[],
): Float64Array {
  const out: number[] = [];
  let at = 0;
  for (const n of pieces) {
    const lg = dec.step(x.subarray(at, at + n));
    if (shape) expect(lg.shape).toEqual(shape(n));
    out.push(...lg.dataSync());
    lg.dispose();
    at += n;
  }
  expect(at).toBe(x.length);
  return Float64Array.from(out);
}

/** Feeds one id at a time; the Float32 logits of every position, concatenated. */
export function feedRows(dec: { feed(ids: Int32Array): Float32Array }, x: Int32Array): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < x.length; i++) out.push(...dec.feed(x.subarray(i, i + 1)));
  return Float64Array.from(out);
}
