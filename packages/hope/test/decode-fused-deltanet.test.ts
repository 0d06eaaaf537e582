/**
 * The fused native decoder of DeltaNetLM (src/kernels/deltanet-decode.ts over
 * native.decodeDeltaNetBlock) against its plain references: the tensor-op `StreamDecoder` and
 * `forward`'s teacher-forced rows, token by token and in pieces, over several hundred tokens, with a
 * learnt non-zero M0; then the errors.
 */
import { native } from '@nl/native';
import { memory, nn, noGrad, type Tensor } from '@nl/tensor';
import { enableSimDevice } from '@nl/tensor/testing';
import { describe, expect, it } from 'vitest';
import { DeltaNetLM, FusedDeltaNetDecoder, StreamDecoder } from '../src/index.js';
import { forwardRows, maxDiff } from './models-helpers.js';
import { hostIds, stepRows as piecesRows, feedRows } from './decode-helpers.js';

enableSimDevice();

const SMALL = { vocabSize: 29, dim: 16, layers: 2, heads: 2, mlpHidden: 24 };

const ids = (n: number, seed: number): Int32Array => hostIds(n, seed, SMALL.vocabSize);
/** Concatenated `step` logits of `x` fed in pieces of the given sizes. */
const stepRows = (dec: { step(ids: Int32Array): Tensor }, x: Int32Array, pieces: number[]): Float64Array =>
  piecesRows(dec, x, pieces, (n) => [n, SMALL.vocabSize]);

describe('fused DeltaNetLM decoder', () => {
  it('float64 with a learnt non-zero M0: equals forward and the tensor-op decoder, in pieces', () => {
    const m = new DeltaNetLM({ ...SMALL, dtype: 'float64', learnInit: true, seed: 1 });
    noGrad(() => {
      for (const b of m.blocks as unknown as { memory: { m0: Tensor } }[])
        nn.init.normal_(b.memory.m0, 0, 0.3);
    });
    const x = ids(200, 2);
    const pieces = [1, 1, 2, 3, 40, 1, 1, 80, 1, 70];
    const fused = m.decoder({ fused: true });
    expect(fused).toBeInstanceOf(FusedDeltaNetDecoder);
    const got = stepRows(fused, x, pieces);
    const plain = m.decoder({ fused: false });
    expect(plain).toBeInstanceOf(StreamDecoder);
    const want = stepRows(plain, x, pieces);
    const ref = forwardRows(m, x);
    expect(maxDiff(got, ref)).toBeLessThan(1e-9);
    expect(maxDiff(got, want)).toBeLessThan(1e-9);
    fused.dispose();
    plain.dispose();
  });

  it('float32 (the default on the CPU): 300 tokens one at a time equal forward and the tensor-op decoder', () => {
    const m = new DeltaNetLM({ ...SMALL, dim: 32, heads: 4, seed: 3 });
    const x = ids(300, 4);
    const dec = m.decoder();
    expect(dec).toBeInstanceOf(FusedDeltaNetDecoder);
    const got = feedRows(dec, x);
    const plain = m.decoder({ fused: false });
    const want = feedRows(plain, x);
    const ref = forwardRows(m, x);
    expect(maxDiff(got, ref)).toBeLessThan(1e-4);
    expect(maxDiff(got, want)).toBeLessThan(1e-4);
    expect(maxDiff(got, ref)).toBeGreaterThan(0);
    dec.dispose();
    plain.dispose();
  });

  it('frees its state, keeps the tensor-op decoder elsewhere, refuses bad input', () => {
    const m = new DeltaNetLM({ ...SMALL, seed: 5 });
    const x = ids(9, 6);
    const before = memory().numTensors;
    const dec = m.decoder();
    feedRows(dec, x);
    dec.dispose();
    expect(memory().numTensors).toBe(before);
    expect(new DeltaNetLM({ ...SMALL, dtype: 'float64', seed: 1 }).decoder()).toBeInstanceOf(StreamDecoder);
    const d2 = m.decoder();
    expect(() => d2.feed(Int32Array.of(29))).toThrow(/token id 29 at index 0 is outside \[0, 29\)/);
    expect(() => d2.feed(new Int32Array(0))).toThrow(/at least one id/);
    d2.dispose();
    expect(() => d2.feed(Int32Array.of(1))).toThrow(/used after dispose/);
    m.to('sim');
    expect(m.decoder()).toBeInstanceOf(StreamDecoder);
    expect(() => m.decoder({ fused: true })).toThrow(/fused decoder: the model is on 'sim'/);
  });

  it('native.decodeDeltaNetBlock names a bad field', () => {
    const D = 8;
    const f = (n: number) => new Float32Array(n).fill(0.1);
    const arrays = {
      x: f(D), norm1: f(D), wQkv: f(3 * D * D), conv: f(3 * D * 4), wAlpha: f(2 * D), wBeta: f(2 * D),
      aLog: f(2), dtBias: f(2), outNorm: f(4), wGateOut: f(D * D), wOut: f(D * D), norm2: f(D),
      wGate: f(6 * D), wUp: f(6 * D), wDown: f(D * 6), convCache: f(3 * 3 * D), memory: f(2 * 16),
    }; // prettier-ignore
    const dims = { tokens: 1, d: D, heads: 2, hidden: 6, window: 4, eps: 1e-6 };
    native.decodeDeltaNetBlock(arrays, dims);
    expect(arrays.x.every(Number.isFinite)).toBe(true);
    expect(() => native.decodeDeltaNetBlock({ ...arrays, memory: f(16) }, dims)).toThrow(/arrays.memory must have 32 elements/); // prettier-ignore
    expect(() => native.decodeDeltaNetBlock(arrays, { ...dims, window: 3 })).toThrow(/arrays.conv must have 72 elements/); // prettier-ignore
    expect(() => native.decodeDeltaNetBlock(arrays, { ...dims, heads: 3 })).toThrow(/must divide by dims.heads/); // prettier-ignore
  });
});
