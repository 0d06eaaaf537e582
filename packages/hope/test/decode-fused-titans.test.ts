/**
 * The fused native decoder of TitansLM (src/kernels/titans-decode.ts over native.decodeTitansBlock)
 * against its plain references: `forward`'s teacher-forced rows and the tensor-op `StreamDecoder`
 * (TitansMemory's loop or fused chunk kernels), fed token by token and in pieces that cut inside and
 * across memory chunks (chunk-start anchors, momenta and the chunk phase carried between calls);
 * then live weights after a training step, leaks, and the errors.
 */
import { native } from '@nl/native';
import { AdamW } from '@nl/optim';
import { memory, type Tensor } from '@nl/tensor';
import { enableSimDevice } from '@nl/tensor/testing';
import { describe, expect, it } from 'vitest';
import { FusedTitansDecoder, StreamDecoder, TitansLM } from '../src/index.js';
import { forwardRows, maxDiff, randomIds } from './models-helpers.js';
import { hostIds, stepRows as piecesRows, feedRows } from './decode-helpers.js';

enableSimDevice();

const SMALL = { vocabSize: 29, dim: 16, layers: 2, heads: 2, mlpHidden: 24 };

const ids = (n: number, seed: number): Int32Array => hostIds(n, seed, SMALL.vocabSize);
/** Concatenated `step` logits of `x` fed in pieces of the given sizes. */
const stepRows = (dec: { step(ids: Int32Array): Tensor }, x: Int32Array, pieces: number[]): Float64Array =>
  piecesRows(dec, x, pieces, (n) => [n, SMALL.vocabSize]);
/** Bigger gates and initial memory weights than the defaults: the memory's write visibly moves the logits. */
const LIVELY = { thetaMax: 0.5, thetaInit: 0.2, alphaMax: 0.2, alphaInit: 0.05, memoryInitStd: 0.3 };

describe('fused TitansLM decoder', () => {
  for (const impl of ['fused', 'loop'] as const) {
    it(`float64, impl '${impl}': equals forward and the tensor-op decoder in pieces across chunks`, () => {
      const m = new TitansLM({ ...SMALL, ...LIVELY, dtype: 'float64', impl, memoryHidden: 12, seed: 1 });
      const x = ids(80, 2); // chunkSize 16: five chunks, pieces cut inside and across them
      const pieces = [1, 3, 7, 1, 20, 2, 16, 1, 13, 16];
      const fused = m.decoder({ fused: true });
      expect(fused).toBeInstanceOf(FusedTitansDecoder);
      const got = stepRows(fused, x, pieces);
      expect(fused.position).toBe(80);
      const plain = m.decoder({ fused: false });
      expect(plain).toBeInstanceOf(StreamDecoder);
      const want = stepRows(plain, x, pieces);
      const ref = forwardRows(m, x);
      expect(maxDiff(got, ref)).toBeLessThan(1e-9);
      expect(maxDiff(got, want)).toBeLessThan(1e-9);
      fused.dispose();
      plain.dispose();
    });
  }

  it('float64, chunkSize 5 and conv window 2: one at a time equals forward', () => {
    const m = new TitansLM({ ...SMALL, ...LIVELY, dtype: 'float64', chunkSize: 5, convSize: 2, seed: 4 });
    const x = ids(53, 3);
    const dec = m.decoder({ fused: true });
    expect(maxDiff(stepRows(dec, x, Array<number>(53).fill(1)), forwardRows(m, x))).toBeLessThan(1e-9);
    dec.dispose();
  });

  it('the memory matters: a near-zero write rate (θ → 0) changes the logits', () => {
    const a = new TitansLM({ ...SMALL, ...LIVELY, dtype: 'float64', seed: 6 });
    const b = new TitansLM({
      ...SMALL,
      ...LIVELY,
      dtype: 'float64',
      seed: 6,
      thetaMax: 1e-6,
      thetaInit: 5e-7,
    });
    const x = ids(40, 5);
    const da = a.decoder({ fused: true });
    const db = b.decoder({ fused: true });
    expect(maxDiff(stepRows(da, x, [40]), stepRows(db, x, [40]))).toBeGreaterThan(1e-3);
    da.dispose();
    db.dispose();
  });

  it('float32 (the default on the CPU): 300 tokens one at a time equal forward and the tensor-op decoder', () => {
    const m = new TitansLM({ ...SMALL, ...LIVELY, dim: 32, heads: 4, seed: 3 });
    const x = ids(300, 4);
    const dec = m.decoder();
    expect(dec).toBeInstanceOf(FusedTitansDecoder);
    const got = feedRows(dec, x);
    const plain = m.decoder({ fused: false });
    const want = feedRows(plain, x);
    const ref = forwardRows(m, x);
    expect(maxDiff(got, ref)).toBeLessThan(1e-4);
    expect(maxDiff(got, want)).toBeLessThan(1e-4);
    expect(maxDiff(got, ref)).toBeGreaterThan(0); // float32 rounding: a different computation, not a copy
    dec.dispose();
    plain.dispose();
  });

  it('reads the live weights: a training step between feeds changes both decoders alike', () => {
    const m = new TitansLM({ ...SMALL, ...LIVELY, dtype: 'float64', tieEmbeddings: true, seed: 5 });
    const x = ids(40, 6);
    const fused = m.decoder({ fused: true });
    const plain = m.decoder({ fused: false });
    const before = stepRows(fused, x.subarray(0, 20), [20]);
    expect(maxDiff(before, stepRows(plain, x.subarray(0, 20), [20]))).toBeLessThan(1e-9);
    const opt = new AdamW(m.parameters(), { lr: 1e-2 });
    const batch = randomIds(2, 9, SMALL.vocabSize, 7);
    m.lossAndBackward(batch);
    opt.step();
    const a = stepRows(fused, x.subarray(20), [3, 17]);
    const b = stepRows(plain, x.subarray(20), [3, 17]);
    expect(maxDiff(a, b)).toBeLessThan(1e-9);
    const fresh = m.decoder({ fused: true }); // the step moved the logits (and the memory's W1, W2)
    expect(maxDiff(stepRows(fresh, x.subarray(0, 20), [20]), before)).toBeGreaterThan(1e-6);
    fused.dispose();
    plain.dispose();
    fresh.dispose();
    opt.dispose?.();
    batch.dispose();
  });

  it('frees its state, keeps the tensor-op decoder elsewhere, refuses bad input', () => {
    const m = new TitansLM({ ...SMALL, seed: 5 });
    const x = ids(9, 6);
    const before = memory().numTensors;
    const dec = m.decoder();
    feedRows(dec, x);
    dec.step([1, 2]).dispose();
    dec.dispose();
    dec.dispose(); // idempotent
    expect(memory().numTensors).toBe(before);
    expect(new TitansLM({ ...SMALL, dtype: 'float64', seed: 1 }).decoder()).toBeInstanceOf(StreamDecoder);
    const d2 = m.decoder();
    expect(() => d2.feed(Int32Array.of(29))).toThrow(/token id 29 at index 0 is outside \[0, 29\)/);
    expect(() => d2.feed(Int32Array.of(-1))).toThrow(/token id -1 at index 0/);
    expect(() => d2.step([0, 1.5])).toThrow(/token id 1.5 at index 1/);
    expect(() => d2.feed(new Int32Array(0))).toThrow(/at least one id/);
    d2.dispose();
    expect(() => d2.feed(Int32Array.of(1))).toThrow(/TitansLM decoder: used after dispose/);
    m.to('sim');
    expect(m.decoder()).toBeInstanceOf(StreamDecoder);
    expect(() => m.decoder({ fused: true })).toThrow(/TitansLM fused decoder: the model is on 'sim'/);
  });
});

describe('native.decodeTitansBlock', () => {
  const D = 8;
  const H = 2;
  const M = 3;
  const f = (n: number) => new Float32Array(n).fill(0.1);
  const good = () => ({
    x: f(D), norm1: f(D), wQkv: f(3 * D * D), conv: f(3 * D * 4), wTheta: f(H * D), bTheta: f(H),
    wEta: f(H * D), bEta: f(H), wAlpha: f(H * D), bAlpha: f(H), outNorm: f(D / H), wGateOut: f(D * D),
    wOut: f(D * D), norm2: f(D), wGate: f(6 * D), wUp: f(6 * D), wDown: f(D * 6), convCache: f(3 * 3 * D),
    memory: f(6 * D * M),
  }); // prettier-ignore
  const dims = {
    tokens: 1, d: D, heads: H, hidden: 6, memoryHidden: M, window: 4, chunkSize: 16, position: 0, eps: 1e-6,
    thetaMax: 0.1, etaMax: 0.9, alphaMax: 0.1,
  }; // prettier-ignore
  type Arrays = ReturnType<typeof good>;
  const call =
    (a: object, d: object = dims) =>
    () =>
      native.decodeTitansBlock(a as Arrays, d as typeof dims);

  it('runs on good input and names a bad field', () => {
    const a = good();
    native.decodeTitansBlock(a, dims);
    expect(a.x.every(Number.isFinite)).toBe(true);
    expect(a.x[0]).not.toBeCloseTo(0.1, 6);
    expect(call({ ...good(), memory: f(6 * D * M - 1) })).toThrow(/arrays.memory must have 144 elements/);
    expect(call(good(), { ...dims, window: 3 })).toThrow(/arrays.conv must have 72 elements/);
    expect(call(good(), { ...dims, heads: 3 })).toThrow(/must divide by dims.heads/);
    expect(call(good(), { ...dims, memoryHidden: 4 })).toThrow(/arrays.memory must have 192 elements/);
    expect(call(good(), { ...dims, chunkSize: 0 })).toThrow(/dims.chunkSize/);
    expect(call(good(), { ...dims, position: -1 })).toThrow(/dims.position/);
    expect(call(good(), { ...dims, thetaMax: Number.NaN })).toThrow(/dims.thetaMax/);
    expect(call(good(), { ...dims, etaMax: 0 })).toThrow(/dims.etaMax must be > 0/);
    expect(call({ ...good(), memory: new Float64Array(6 * D * M) })).toThrow(
      /arrays.memory is a Float64Array but earlier arrays are Float32Array/,
    );
    expect(call({ ...good(), conv: new Int32Array(3 * D * 4) })).toThrow(
      /arrays.conv must be a Float32Array/,
    );
    expect(call({ ...good(), bEta: [0.1, 0.1] })).toThrow(/arrays.bEta must be a Float32Array/);
    const { bAlpha: _drop, ...missing } = good();
    expect(call(missing)).toThrow(/arrays.bAlpha is missing/);
    expect(call({ ...good(), extra: f(1) })).toThrow(/arrays.extra is not a field/);
    expect(call({ ...good(), extra: undefined })).toThrow(/arrays.extra is not a field/); // the key counts
    expect(call(Object.assign(Object.create({ extra: 1 }) as object, good()))).toThrow(/arrays.extra is not a field/); // prettier-ignore
    expect(call(good(), { ...dims, ropeBase: 1 })).toThrow(/dims.ropeBase is not a field/);
    expect(call(good(), { ...dims, tokens: 2 })).toThrow(/arrays.x must have 16 elements/);
    expect(call(good(), { ...dims, memoryHidden: undefined })).toThrow(/dims.memoryHidden is missing/);
    expect(() => (native.decodeTitansBlock as (...a: unknown[]) => void)(good())).toThrow(
      /decodeTitansBlock/,
    );
    expect(() => (native.decodeTitansBlock as (...a: unknown[]) => void)(null, dims)).toThrow(
      /decodeTitansBlock/,
    );
  });

  it('a call the lean read declines (a non-enumerable field) runs through the checked read alike', () => {
    const a = good();
    const b = good();
    b.x = Float32Array.from({ length: D }, (_, i) => 0.1 + 0.01 * i);
    a.x.set(b.x);
    native.decodeTitansBlock(a, dims);
    const hidden = Object.defineProperty({ ...b }, 'memory', { value: b.memory, enumerable: false });
    native.decodeTitansBlock(hidden, dims);
    expect(Array.from(b.x)).toEqual(Array.from(a.x));
    expect(Array.from(b.memory)).toEqual(Array.from(a.memory));
    expect(b.memory[0]).not.toBe(0.1); // the memory was written
  });

  it('fuzz: random bad arguments throw JS errors, never crash', () => {
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const keys = Object.keys(good()) as (keyof Arrays)[];
    const dimKeys = Object.keys(dims) as (keyof typeof dims)[];
    const junk: unknown[] = [null, undefined, 0, -3, 2.5, 1e18, Number.NaN, 'x', {}, [], new Float32Array(0), new Float64Array(5), new Uint8Array(8)]; // prettier-ignore
    let threw = 0;
    for (let i = 0; i < 300; i++) {
      const a: Record<string, unknown> = good();
      const d: Record<string, unknown> = { ...dims };
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      if (rnd() < 0.5) a[pick(keys)] = pick(junk);
      else d[pick(dimKeys)] = pick(junk);
      if (rnd() < 0.3) a[pick(keys)] = f(Math.floor(rnd() * 80));
      try {
        native.decodeTitansBlock(a as unknown as Arrays, d as unknown as typeof dims);
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
        expect(String((e as Error).message)).toMatch(/decodeTitansBlock/);
        threw++;
      }
    }
    expect(threw).toBeGreaterThan(200);
  });
});
