/**
 * Tiny HopeLM configs and readers shared by the hope-*.test.ts and session-*.test.ts files.
 * Not a test file itself.
 */
import { noGrad, tensor, type Tensor } from '@nl/tensor';
import { HopeLM } from '../src/models/hope.js';
import type { HopeConfigInput } from '../src/models/hope-config.js';

/** A very small float64 Hope (CMS levels never fire within 64 tokens unless overridden). */
export function tinyHope(over: Partial<HopeConfigInput> = {}): HopeLM {
  return new HopeLM({
    vocabSize: 16,
    dim: 8,
    layers: 2,
    heads: 2,
    memoryHidden: 4,
    chunkMem: 4,
    chunkOther: 2,
    cmsLevels: [
      { chunkSize: 64, lr: 1e-2 },
      { chunkSize: 128, lr: 1e-2 },
    ],
    cmsHidden: 8,
    dtype: 'float64',
    seed: 3,
    ...over,
  });
}

/** Int32 [rows, cols] from nested arrays. */
export function ids2d(rows: number[][]): Tensor {
  return tensor(rows.flat(), { shape: [rows.length, rows[0]!.length], dtype: 'int32' });
}

/** Deterministic pseudo-random ids (LCG), values in [0, v). */
export function lcgIds(n: number, v: number, seed: number): number[] {
  const out: number[] = [];
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(s % v);
  }
  return out;
}

/** Teacher-forced logits (from a fresh state) as a flat Float64Array. */
export function logitsOf(model: HopeLM, tokens: Tensor): Float64Array {
  return noGrad(() => {
    const y = model.forward(tokens);
    const out = Float64Array.from(y.dataSync());
    y.dispose();
    return out;
  });
}

/** Largest |a − b|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Copies of every parameter's gradient by name (zeros where none). */
export function gradsOf(model: HopeLM): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const [n, p] of model.namedParameters())
    out.set(n, p.grad === null ? new Float64Array(p.numel) : Float64Array.from(p.grad.dataSync()));
  return out;
}

/**
 * A small float64 Hope with the value stream, whose memories write and read visibly (the default
 * 0.02 inits are nearly inert): the hope-value-stream*.test.ts files' model.
 */
export const VALUE_STREAM_SMALL: HopeConfigInput = {
  vocabSize: 23,
  dim: 16,
  layers: 2,
  heads: 2,
  memoryHidden: 6,
  chunkMem: 8,
  chunkOther: 3,
  cmsLevels: [
    { chunkSize: 16, lr: 1e-2 },
    { chunkSize: 64, lr: 1e-2 },
  ],
  cmsHidden: 12,
  memoryInitStd: { k: { w1: 0.1, w2: 0.5 }, v: { w1: 0.1, w2: 0.5 }, mem: { w1: 0.2, w2: 0.5 } },
  valueStream: true,
  dtype: 'float64',
  seed: 1,
};
