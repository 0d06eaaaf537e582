/**
 * The fused native decoder of HopeLM (src/kernels/hope-decode.ts over native.decodeHopeBlock /
 * decodeHead, driven by HopeDecoder) against its plain references: the tensor-op HopeDecoder
 * (`{ fused: false }`) and `forward`'s teacher-forced rows, in pieces crossing the memories' chunk
 * boundaries, from a fresh and from a given fast state (CMS Δ ≠ 0), with live weights after an
 * optimizer step; the fast state equals the tensor-op decoder's; then the fallbacks and the errors.
 */
import { native } from '@nl/native';
import { AdamW } from '@nl/optim';
import { memory, mul, noGrad, randn, tidy, type Tensor } from '@nl/tensor';
import { enableSimDevice } from '@nl/tensor/testing';
import { describe, expect, it } from 'vitest';
import { HopeLM, type HopeConfigInput, type HopeFastState } from '../src/models/hope-index.js';
import { HopeDecoder, fastStateTensors, keepFastState } from '../src/models/hope-decoder.js';
import { forwardRows, maxDiff, randomIds } from './models-helpers.js';
import { hostIds, stepRows as piecesRows, feedRows } from './decode-helpers.js';

enableSimDevice();

const SMALL: HopeConfigInput = {
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
  // memories that write and read visibly (the default 0.02 inits are nearly inert)
  memoryInitStd: { k: { w1: 0.1, w2: 0.5 }, v: { w1: 0.1, w2: 0.5 }, mem: { w1: 0.2, w2: 0.5 } },
  dtype: 'float64',
  seed: 1,
};

const ids = (n: number, seed: number, v = SMALL.vocabSize): Int32Array => hostIds(n, seed, v);
/** Concatenated `step` logits of `x` fed in pieces of the given sizes. */
const stepRows = (dec: { step(ids: Int32Array): Tensor }, x: Int32Array, pieces: number[]): Float64Array =>
  piecesRows(dec, x, pieces, (n) => [1, n, SMALL.vocabSize]);

/** Largest difference between two fast states (memories, momenta, snapshots, CMS, conv caches). */
function stateDiff(a: HopeFastState, b: HopeFastState): number {
  a.layers.forEach((l, i) => expect(l.titans.tokens).toBe(b.layers[i]!.titans.tokens));
  const ta = fastStateTensors(a);
  const tb = fastStateTensors(b);
  expect(ta.length).toBe(tb.length);
  let m = 0;
  ta.forEach((t, i) => {
    expect(t.shape).toEqual(tb[i]!.shape);
    m = Math.max(m, maxDiff(t.dataSync(), tb[i]!.dataSync()));
  });
  return m;
}

const PIECES = [1, 3, 7, 1, 2, 11, 5, 1, 16, 1, 32]; // 80 tokens: crosses chunkMem 8 and chunkOther 3 mid-piece

describe('fused HopeLM decoder', () => {
  it('float64: equals forward and the tensor-op decoder in pieces across chunk boundaries, state included', () => {
    const m = new HopeLM(SMALL);
    const x = ids(80, 2);
    const fused = new HopeDecoder(m, undefined, { fused: true });
    const plain = new HopeDecoder(m, undefined, { fused: false });
    expect(fused.fusedNext).toBe(true);
    expect(plain.fusedNext).toBe(false);
    const got = stepRows(fused, x, PIECES);
    const want = stepRows(plain, x, PIECES);
    const ref = forwardRows(m, x);
    expect(got.every(Number.isFinite)).toBe(true);
    expect(maxDiff(want, ref)).toBeLessThan(1e-9);
    expect(maxDiff(got, ref)).toBeLessThan(1e-9);
    expect(maxDiff(got, want)).toBeLessThan(1e-9);
    expect(fused.position).toBe(80);
    expect(fused.fastState.layers[0]!.titans.tokens).toBe(80);
    expect(stateDiff(fused.fastState, plain.fastState)).toBeLessThan(1e-9);
    fused.dispose();
    plain.dispose();
  });

  it('starts from a given fast state (memories mid-chunk, CMS Δ ≠ 0) like the tensor-op decoder', () => {
    const m = new HopeLM({ ...SMALL, seed: 4 });
    const start: HopeFastState = tidy(() =>
      noGrad(() => {
        m.resetFast();
        const pre = randomIds(1, 5, SMALL.vocabSize, 9);
        m.step(pre);
        const s = m.fastState();
        for (const l of s.layers)
          for (const lv of l.cms.levels) {
            lv.d1 = mul(randn(lv.d1.shape, { dtype: 'float64' }), 0.05);
            lv.d2 = mul(randn(lv.d2.shape, { dtype: 'float64' }), 0.05);
          }
        return keepFastState(s);
      }),
    );
    expect(start.layers[0]!.titans.tokens).toBe(5);
    const x = ids(40, 10);
    const fused = new HopeDecoder(m, start, { fused: true });
    const plain = new HopeDecoder(m, start, { fused: false });
    const got = stepRows(fused, x, [1, 3, 7, 29]);
    const want = stepRows(plain, x, [1, 3, 7, 29]);
    expect(maxDiff(got, want)).toBeLessThan(1e-9);
    expect(stateDiff(fused.fastState, plain.fastState)).toBeLessThan(1e-9);
    // the given state is copied, not written: a second decoder from it repeats the first rows
    const again = new HopeDecoder(m, start, { fused: true });
    expect(maxDiff(stepRows(again, x.subarray(0, 4), [4]), got.subarray(0, 4 * SMALL.vocabSize))).toBeLessThan(1e-12); // prettier-ignore
    for (const d of [fused, plain, again]) d.dispose();
    for (const t of fastStateTensors(start)) t.dispose();
  });

  it('float32 (the default on the CPU): 300 tokens one at a time equal forward and the tensor-op decoder', () => {
    const m = new HopeLM({ ...SMALL, dim: 32, heads: 4, memoryHidden: 8, chunkMem: 32, chunkOther: 16, dtype: 'float32', seed: 3 }); // prettier-ignore
    const x = ids(300, 4);
    const dec = m.decoder() as HopeDecoder;
    expect(dec.fusedNext).toBe(true);
    const got = feedRows(dec, x);
    const plain = new HopeDecoder(m, undefined, { fused: false });
    const want = feedRows(plain, x);
    const ref = forwardRows(m, x);
    expect(got.every(Number.isFinite)).toBe(true);
    expect(maxDiff(got, ref)).toBeLessThan(1e-4);
    expect(maxDiff(got, want)).toBeLessThan(1e-4);
    expect(maxDiff(got, ref)).toBeGreaterThan(0); // float32 rounding: a different computation
    dec.dispose();
    plain.dispose();
  });

  it('reads the live weights: a training step between feeds changes both decoders alike (tied head)', () => {
    const m = new HopeLM({ ...SMALL, tieEmbeddings: true, seed: 5 });
    const x = ids(40, 6);
    const fused = new HopeDecoder(m, undefined, { fused: true });
    const plain = new HopeDecoder(m, undefined, { fused: false });
    expect(maxDiff(stepRows(fused, x.subarray(0, 20), [20]), stepRows(plain, x.subarray(0, 20), [20]))).toBeLessThan(1e-9); // prettier-ignore
    const opt = new AdamW(m.parameters(), { lr: 1e-2 });
    const batch = randomIds(2, 9, SMALL.vocabSize, 7);
    m.lossAndBackward(batch);
    opt.step();
    const a = stepRows(fused, x.subarray(20), [3, 17]);
    const b = stepRows(plain, x.subarray(20), [3, 17]);
    expect(maxDiff(a, b)).toBeLessThan(1e-9);
    // a fresh decoder after the step starts from the new memory inits, as forward does
    const fresh = new HopeDecoder(m, undefined, { fused: true });
    expect(maxDiff(stepRows(fresh, x, [40]), forwardRows(m, x))).toBeLessThan(1e-9);
    for (const d of [fused, plain, fresh]) d.dispose();
    batch.dispose();
  });

  it('frozen memories read without writing, as the tensor-op path; switching paths keeps the state', () => {
    const m = new HopeLM({ ...SMALL, seed: 6 });
    const x = ids(30, 11);
    const fused = new HopeDecoder(m, undefined, { fused: true });
    const plain = new HopeDecoder(m, undefined, { fused: false });
    const a: number[] = [...stepRows(fused, x.subarray(0, 10), [10])];
    const b: number[] = [...stepRows(plain, x.subarray(0, 10), [10])];
    for (const t of m.fastModules('titans')) t.freeze();
    a.push(...stepRows(fused, x.subarray(10, 20), [4, 6]));
    b.push(...stepRows(plain, x.subarray(10, 20), [4, 6]));
    expect(fused.fastState.layers[1]!.titans.tokens).toBe(10);
    for (const t of m.fastModules('titans')) t.unfreeze();
    // auto mode: the blocker is read at every step; flipping the config's ablation flag (the
    // built memories are unchanged) sends one step through the tensor-op path on the same state
    const auto = new HopeDecoder(m, undefined, {});
    const c: number[] = [...stepRows(auto, x.subarray(0, 10), [10])]; // float64: tensor-op
    const f32 = new HopeLM({ ...SMALL, dtype: 'float32', seed: 6 });
    const mixed = new HopeDecoder(f32, undefined, {});
    const ref32 = forwardRows(f32, x);
    const rows: number[] = [...stepRows(mixed, x.subarray(0, 12), [12])];
    expect(mixed.fusedNext).toBe(true);
    (f32.config as { staticGenerators: boolean }).staticGenerators = true;
    expect(mixed.fusedNext).toBe(false);
    rows.push(...stepRows(mixed, x.subarray(12, 20), [5, 3]));
    (f32.config as { staticGenerators: boolean }).staticGenerators = false;
    expect(mixed.fusedNext).toBe(true);
    rows.push(...stepRows(mixed, x.subarray(20), [10]));
    expect(maxDiff(rows, ref32)).toBeLessThan(1e-4);
    a.push(...stepRows(fused, x.subarray(20), [10]));
    b.push(...stepRows(plain, x.subarray(20), [10]));
    expect(maxDiff(a, b)).toBeLessThan(1e-9);
    expect(stateDiff(fused.fastState, plain.fastState)).toBeLessThan(1e-9);
    expect(c.length).toBe(10 * SMALL.vocabSize);
    for (const d of [fused, plain, auto, mixed]) d.dispose();
  });

  it('frees its state: no tensors left after dispose (fused steps, views, path switches)', () => {
    const m = new HopeLM({ ...SMALL, dtype: 'float32', seed: 8 });
    const x = ids(20, 12);
    new HopeDecoder(m).dispose(); // the first reset frees the model's construction-time fast state
    const before = memory().numTensors;
    const dec = new HopeDecoder(m, undefined, {});
    feedRows(dec, x.subarray(0, 9));
    expect(dec.fastState.layers.length).toBe(2); // a view of the packed state
    (m.config as { staticGenerators: boolean }).staticGenerators = true;
    feedRows(dec, x.subarray(9, 12)); // tensor-op path
    (m.config as { staticGenerators: boolean }).staticGenerators = false;
    const lg = dec.step(x.subarray(12));
    lg.dispose();
    void dec.fastState;
    dec.dispose();
    dec.dispose(); // idempotent
    expect(memory().numTensors).toBe(before);
  });

  it('keeps the tensor-op path where the fused one does not apply, naming why', () => {
    const abl = new HopeLM({ ...SMALL, dtype: 'float32', staticGenerators: true, selfModImpl: 'loop' });
    expect((abl.decoder() as HopeDecoder).fusedNext).toBe(false);
    expect(() => new HopeDecoder(abl, undefined, { fused: true })).toThrow(/fused decoder: the ablation switch staticGenerators/); // prettier-ignore
    const gd = new HopeLM({ ...SMALL, precondition: false, selfModImpl: 'chunked' });
    expect(() => new HopeDecoder(gd, undefined, { fused: true })).toThrow(/precondition: false/);
    expect((new HopeLM({ ...SMALL }).decoder() as HopeDecoder).fusedNext).toBe(false); // float64 default
    const sim = new HopeLM({ ...SMALL, dtype: 'float32' }).to('sim') as HopeLM;
    expect((sim.decoder() as HopeDecoder).fusedNext).toBe(false);
    expect(() => new HopeDecoder(sim, undefined, { fused: true })).toThrow(
      /fused decoder: the model is on 'sim'/,
    );
  });

  it('refuses bad ids with clear errors', () => {
    const m = new HopeLM({ ...SMALL, dtype: 'float32' });
    const dec = m.decoder() as HopeDecoder;
    expect(() => dec.feed(Int32Array.of(23))).toThrow(/ids\[0\] = 23 is outside \[0, 23\)/);
    expect(() => dec.step(Int32Array.of(3, -1))).toThrow(/ids\[1\] = -1/);
    expect(() => dec.feed(new Int32Array(0))).toThrow(/non-empty Int32Array/);
    expect(dec.position).toBe(0);
    dec.feed(Int32Array.of(1));
    dec.dispose();
    expect(() => dec.feed(Int32Array.of(1))).toThrow(/disposed/);
  });
});

describe('native.decodeHopeBlock arguments', () => {
  const D = 8;
  const H = 2;
  const DM = 3;
  const HC = 5;
  const f = (n: number, v = 0.1) => new Float32Array(n).fill(v);
  const arrays = () =>
    ({
      x: f(D), norm1: f(D, 1), conv: f(D * 4), convBias: f(D), wq: f(D * D), outNorm: f(D / H, 1),
      wg: f(D * D), wo: f(D * D), norm2: f(D, 1), cmsW1_0: f(HC * D), cmsW2_0: f(D * HC),
      cmsD1_0: null, cmsD2_0: f(D * HC, 0.01), convCache: f(3 * D), mems: f(5 * 8 * H * (D / H) * DM, 0.05),
    }) as Record<string, unknown>; // prettier-ignore
  const dims = () =>
    ({
      tokens: 1, d: D, heads: H, memHidden: DM, cmsHidden: HC, levels: 1, window: 4, position: 0,
      chunkMem: 4, chunkOther: 2, momentum: 0.9, alphaBias: 4, etaBias: -2, eps: 1e-6,
    }) as Record<string, unknown>; // prettier-ignore
  const call = (a: Record<string, unknown>, d: Record<string, unknown>) =>
    native.decodeHopeBlock(a as never, d as never);

  it('runs on valid operands and names each bad field', () => {
    const a = arrays();
    call(a, { ...dims(), refresh: true });
    expect(Array.from(a.x as Float32Array).every(Number.isFinite)).toBe(true);
    expect(() => call({ ...arrays(), mems: f(10) }, dims())).toThrow(/arrays.mems must have 960 elements/);
    expect(() => call(arrays(), { ...dims(), window: 3 })).toThrow(/arrays.conv must have 24 elements/);
    expect(() => call(arrays(), { ...dims(), heads: 3 })).toThrow(/must divide by dims.heads/);
    expect(() => call(arrays(), { ...dims(), levels: 2 })).toThrow(/arrays.cmsW1_1 is missing/);
    expect(() => call({ ...arrays(), cmsW3_0: f(1) }, dims())).toThrow(/arrays.cmsW3_0 is not a field/);
    expect(() => call({ ...arrays(), wq: new Float64Array(D * D) }, dims())).toThrow(
      /all arrays must share a dtype/,
    );
    expect(() => call(arrays(), { ...dims(), eps: 0 })).toThrow(/dims.eps must be > 0/);
    expect(() => call(arrays(), { ...dims(), chunkMem: 0 })).toThrow(/dims.chunkMem must be an integer >= 1/);
    expect(() => call(arrays(), { ...dims(), momentum: Number.NaN })).toThrow(
      /dims.momentum must be a finite number/,
    );
    expect(() => call(arrays(), { ...dims(), frozen: 1 })).toThrow(/dims.frozen must be a boolean/);
    expect(() => call(arrays(), { ...dims(), levels: 65 })).toThrow(/dims.levels must be <= 64/);
  });

  it('fuzz: random bad arguments throw JS errors, never crash', () => {
    let seed = 12345;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const junk = [undefined, null, 0, -1, 1.5, 2 ** 53, Number.NaN, 'x', {}, [], true, f(0), f(3), new Float64Array(7), new Int32Array(8)]; // prettier-ignore
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    let threw = 0;
    for (let i = 0; i < 400; i++) {
      const a = arrays();
      const d = dims();
      const which = rnd() < 0.5 ? a : d;
      const keys = Object.keys(which);
      for (let j = 0; j < 1 + Math.floor(rnd() * 3); j++) which[pick(keys)] = pick(junk);
      try {
        call(rnd() < 0.05 ? (pick(junk) as never) : a, rnd() < 0.05 ? (pick(junk) as never) : d);
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
        expect(String((e as Error).message)).toMatch(/decodeHopeBlock/);
        threw++;
      }
    }
    expect(threw).toBeGreaterThan(200); // some draws are valid (e.g. momentum 0, an absent optional)
    expect(() => (native.decodeHopeBlock as unknown as () => void)()).toThrow(/decodeHopeBlock/);
  });
});
