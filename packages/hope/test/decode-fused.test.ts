/**
 * The fused native decoder of TransformerLM (src/kernels/transformer-decode.ts over
 * native.decodeAttentionBlock / decodeHead) against its plain references: the tensor-op
 * `StreamDecoder` and `forward`'s teacher-forced rows, token by token and in pieces, across KV
 * capacity growths (64 → 128 → 256 → 512 rows) and after several hundred tokens; then the errors.
 */
import { native } from '@nl/native';
import { AdamW } from '@nl/optim';
import { memory, type Tensor } from '@nl/tensor';
import { enableSimDevice } from '@nl/tensor/testing';
import { describe, expect, it } from 'vitest';
import { FusedTransformerDecoder, INITIAL_KV_CAPACITY, StreamDecoder, TransformerLM } from '../src/index.js';
import { forwardRows, maxDiff, randomIds } from './models-helpers.js';
import { hostIds, stepRows as piecesRows, feedRows } from './decode-helpers.js';

enableSimDevice();

const SMALL = { vocabSize: 29, dim: 16, layers: 2, heads: 2, mlpHidden: 24 };

const ids300 = (seed: number): Int32Array => hostIds(300, seed, SMALL.vocabSize);
/** Concatenated `step` logits of `x` fed in pieces of the given sizes. */
const stepRows = (dec: { step(ids: Int32Array): Tensor }, x: Int32Array, pieces: number[]): Float64Array =>
  piecesRows(dec, x, pieces, (n) => [n, SMALL.vocabSize]);

describe('fused TransformerLM decoder', () => {
  it('float64: equals forward and the tensor-op decoder across capacity growths, in pieces', () => {
    const m = new TransformerLM({ ...SMALL, dtype: 'float64', seed: 1 });
    const ids = ids300(2);
    const ref = forwardRows(m, ids);
    // pieces crossing 64 (60 + 10), 128 (one feed of 70 from 70) and 256 (250 + 7), plus single ids
    const pieces = [1, 1, 58, 10, 70, 1, 110, 7, 1, 1, 40];
    const fused = m.decoder({ fused: true });
    expect(fused).toBeInstanceOf(FusedTransformerDecoder);
    const got = stepRows(fused, ids, pieces);
    expect((fused as FusedTransformerDecoder).kvCapacity).toBe(8 * INITIAL_KV_CAPACITY); // 512 >= 300
    expect(fused.position).toBe(300);
    const plain = m.decoder({ fused: false });
    expect(plain).toBeInstanceOf(StreamDecoder);
    const want = stepRows(plain, ids, pieces);
    expect(maxDiff(got, ref)).toBeLessThan(1e-9);
    expect(maxDiff(got, want)).toBeLessThan(1e-9);
    fused.dispose();
    plain.dispose();
  });

  it('float32 (the default on the CPU): 300 tokens one at a time equal forward and the tensor-op decoder', () => {
    const m = new TransformerLM({ ...SMALL, dim: 32, heads: 4, seed: 3 });
    const ids = ids300(4);
    const dec = m.decoder();
    expect(dec).toBeInstanceOf(FusedTransformerDecoder);
    const got = feedRows(dec, ids);
    const plain = m.decoder({ fused: false });
    const want = feedRows(plain, ids);
    const ref = forwardRows(m, ids);
    expect(maxDiff(got, ref)).toBeLessThan(1e-4);
    expect(maxDiff(got, want)).toBeLessThan(1e-4);
    expect(maxDiff(got, ref)).toBeGreaterThan(0); // float32 rounding: a different computation, not a copy
    dec.dispose();
    plain.dispose();
  });

  it('reads the live weights: a training step between feeds changes both decoders alike (tied head)', () => {
    const m = new TransformerLM({ ...SMALL, dtype: 'float64', tieEmbeddings: true, seed: 5 });
    const ids = ids300(6).subarray(0, 40);
    const fused = m.decoder({ fused: true });
    const plain = m.decoder({ fused: false });
    expect(maxDiff(stepRows(fused, ids.subarray(0, 20), [20]), stepRows(plain, ids.subarray(0, 20), [20]))).toBeLessThan(1e-10); // prettier-ignore
    const opt = new AdamW(m.parameters(), { lr: 1e-2 });
    const batch = randomIds(2, 9, SMALL.vocabSize, 7);
    m.lossAndBackward(batch);
    opt.step();
    const a = stepRows(fused, ids.subarray(20), [3, 17]);
    const b = stepRows(plain, ids.subarray(20), [3, 17]);
    expect(maxDiff(a, b)).toBeLessThan(1e-10);
    fused.dispose();
    plain.dispose();
    opt.dispose?.();
    batch.dispose();
  });

  it('frees its caches: no tensors left after dispose', () => {
    const m = new TransformerLM({ ...SMALL, seed: 8 });
    const ids = ids300(9).subarray(0, 70);
    const before = memory().numTensors;
    const dec = m.decoder();
    feedRows(dec, ids); // one growth
    const lg = dec.step([1, 2]);
    lg.dispose();
    dec.dispose();
    dec.dispose(); // idempotent
    expect(memory().numTensors).toBe(before);
  });

  it('keeps the tensor-op decoder where the fused one does not apply', () => {
    const f64 = new TransformerLM({ ...SMALL, dtype: 'float64', seed: 1 });
    expect(f64.decoder()).toBeInstanceOf(StreamDecoder);
    const sim = new TransformerLM({ ...SMALL, seed: 1 }).to('sim');
    expect(sim.decoder()).toBeInstanceOf(StreamDecoder);
    expect(() => sim.decoder({ fused: true })).toThrow(/fused decoder: the model is on 'sim'/);
  });

  it('refuses bad input with clear errors', () => {
    const m = new TransformerLM({ ...SMALL, seed: 1 });
    const dec = m.decoder();
    expect(() => dec.feed(Int32Array.of(29))).toThrow(/token id 29 at index 0 is outside \[0, 29\)/);
    expect(() => dec.step([3, -1])).toThrow(/token id -1 at index 1/);
    expect(() => dec.step([1.5])).toThrow(/token id 1.5/);
    expect(() => dec.feed(new Int32Array(0))).toThrow(/at least one id/);
    expect(dec.position).toBe(0); // nothing consumed by a refused feed
    dec.feed(Int32Array.of(1));
    m.to('sim');
    expect(() => dec.feed(Int32Array.of(1))).toThrow(/changed under the fused decoder/);
    dec.dispose();
    expect(() => dec.feed(Int32Array.of(1))).toThrow(/used after dispose/);
  });
});

describe('native.decodeAttentionBlock / decodeHead argument checks', () => {
  const D = 8;
  const F = 6;
  const f = (n: number) => new Float32Array(n).fill(0.1);
  const arrays = () => ({
    x: f(D),
    norm1: f(D),
    wq: f(D * D),
    wk: f(D * D),
    wv: f(D * D),
    wo: f(D * D),
    norm2: f(D),
    wGate: f(F * D),
    wUp: f(F * D),
    wDown: f(D * F),
    kCache: f(2 * 4 * 4),
    vCache: f(2 * 4 * 4),
  });
  const dims = { tokens: 1, d: D, heads: 2, hidden: F, position: 0, capacity: 4, eps: 1e-6, ropeBase: 10000 };

  it('runs on well-formed operands and writes the cache row', () => {
    const a = arrays();
    a.kCache.fill(0);
    native.decodeAttentionBlock(a, dims);
    expect(a.kCache.subarray(0, 4).some((v) => v !== 0)).toBe(true); // head 0, row 0
    expect(a.kCache.subarray(4, 16).every((v) => v === 0)).toBe(true); // rows 1.. untouched
  });

  it('names the bad field', () => {
    const call =
      (over: Record<string, unknown>, dOver: Record<string, unknown> = {}) =>
      () =>
        native.decodeAttentionBlock({ ...arrays(), ...over } as never, { ...dims, ...dOver } as never);
    expect(call({}, { position: 4 })).toThrow(/cache is full: dims.position \+ dims.tokens \(5\) exceeds dims.capacity \(4\)/); // prettier-ignore
    expect(call({ x: f(D + 1) })).toThrow(/arrays.x must have 8 elements/);
    expect(call({ wo: new Float64Array(D * D) })).toThrow(/arrays.wo is a .*share a dtype/);
    expect(call({ extra: f(1) })).toThrow(/arrays.extra is not a field/);
    expect(call({}, { heads: 3 })).toThrow(/dims.d \(8\) must divide by dims.heads \(3\)/);
    expect(call({}, { heads: 8 })).toThrow(/head dim d\/heads \(1\) must be even/);
    expect(call({}, { eps: 0 })).toThrow(/dims.eps must be > 0/);
    expect(call({}, { tokens: 0 })).toThrow(/dims.tokens must be an integer >= 1/);
    const head = { x: f(D), norm: f(D), head: f(5 * D), logits: f(4) };
    expect(() => native.decodeHead(head, { tokens: 1, d: D, vocab: 5, eps: 1e-6 })).toThrow(/arrays.logits must have 5 elements/); // prettier-ignore
  });
});
