// Inputs that used to give wrong results without an error (issue 15, "Wrong results without an
// error"): each now throws a clear error naming what is wrong, or gives the exact result.
import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { Generator } from '../src/random.js';

describe('randint', () => {
  it('refuses ranges int32 cannot hold instead of returning wrapped negatives', () => {
    expect(() => T.randint(5, 1e12, [4])).toThrow(/randint: \[5, 1000000000000\) does not fit dtype int32/);
    expect(() => T.randint(-(2 ** 31) - 1, 0, [1])).toThrow(RangeError);
    const edge = T.randint(-(2 ** 31), 2 ** 31, [64]);
    for (const v of edge.dataSync()) expect(Number.isInteger(v)).toBe(true);
    edge.dispose();
  });
  it('float64 gives exact in-range integers for ranges beyond 2^32', () => {
    const t = T.randint(5, 1e12, [2000], { dtype: 'float64', generator: new Generator(3) });
    const v = t.dataSync();
    let big = 0;
    for (const x of v) {
      expect(Number.isInteger(x)).toBe(true);
      expect(x).toBeGreaterThanOrEqual(5);
      expect(x).toBeLessThan(1e12);
      if (x > 2 ** 32) big++;
    }
    expect(big).toBeGreaterThan(1900); // uniform over [5, 1e12)
    t.dispose();
    const wide = T.randint(-(2 ** 52), 2 ** 52, [500], { dtype: 'float64' });
    for (const x of wide.dataSync()) {
      expect(Number.isInteger(x)).toBe(true);
      expect(Math.abs(x)).toBeLessThanOrEqual(2 ** 52);
    }
    wide.dispose();
    expect(() => T.randint(0, 2 ** 60, [1], { dtype: 'float64' })).toThrow(/float64/);
    expect(() => T.randint(0, 2 ** 25, [1], { dtype: 'float32' })).toThrow(/float32/);
  });
  it('Generator.int keeps the old stream for ranges up to 2^32', () => {
    const a = new Generator(7);
    const b = new Generator(7);
    for (let i = 0; i < 100; i++) expect(a.int(0, 1000)).toBe(Math.floor(b.random() * 1000));
  });
});

describe('tensor(..., int32)', () => {
  it('refuses values int32 cannot hold, naming value and index', () => {
    expect(() => T.tensor([1e10], { dtype: 'int32' })).toThrow(
      /value 10000000000 at index 0 is not an int32/,
    );
    expect(() =>
      T.tensor(
        [
          [1, 2],
          [3, 2.5],
        ],
        { dtype: 'int32' },
      ),
    ).toThrow(/value 2.5 at index 3/);
    expect(() => T.tensor([NaN], { dtype: 'int32' })).toThrow(/value NaN at index 0/);
    expect(() => T.tensor(new Float64Array([0, 2 ** 31]), { dtype: 'int32' })).toThrow(/index 1/);
    const ok = T.tensor([-(2 ** 31), 2 ** 31 - 1], { dtype: 'int32' });
    expect(Array.from(ok.dataSync())).toEqual([-(2 ** 31), 2 ** 31 - 1]);
    ok.dispose();
  });
});

describe('scaledDotProductAttention', () => {
  it('refuses a non-finite scale', () => {
    const q = T.randn([1, 1, 2, 4]);
    for (const scale of [NaN, Infinity, -Infinity])
      expect(() => T.nn.functional.scaledDotProductAttention(q, q, q, { scale })).toThrow(
        /scale must be a finite number/,
      );
    expect(() =>
      T.nn.functional.scaledDotProductAttention(q, q, q, { scale: '2' as unknown as number }),
    ).toThrow(/scale must be a finite number/);
    q.dispose();
  });
});

describe('reductions', () => {
  it('refuse a repeated dim, naming it', () => {
    const x = T.randn([2, 3]);
    const before = T.memory().numTensors;
    expect(() => T.sum(x, [0, 0])).toThrow(/sum: dim 0 is repeated/);
    expect(() => T.mean(x, [1, -1])).toThrow(/mean: dim -1 is repeated in \[1, -1\]/);
    expect(() => T.max(x, [0, -2])).toThrow(/max: dim -2 is repeated/);
    expect(T.memory().numTensors).toBe(before);
    x.dispose();
  });
  it('give a clear TypeError for a non-integer dim', () => {
    const x = T.randn([2, 3]);
    expect(() => T.mean(x, 'x' as unknown as number)).toThrow(
      new TypeError('mean: dim must be an integer or an array of integers, got "x"'),
    );
    expect(() => T.sum(x, [0, 'a'] as unknown as number[])).toThrow(
      /dim must be an integer or an array of integers/,
    );
    expect(() => T.sum(x, 0.5)).toThrow(/dim must be an integer/);
    x.dispose();
  });
});

describe('loadStateDict (strict)', () => {
  it('refuses keys named like Object.prototype members', () => {
    const m = new T.nn.Linear(2, 2);
    const sd = m.stateDict();
    for (const extra of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const state: Record<string, T.Tensor> = { ...sd };
      Object.defineProperty(state, extra, { value: sd.weight, enumerable: true });
      expect(() => m.loadStateDict(state)).toThrow(new RegExp(`unexpected key\\(s\\) '${extra}'`));
    }
    m.dispose();
  });
});

describe('io.load({ finite: true })', () => {
  it('refuses NaN/Infinity weights at load, naming tensor and element', () => {
    const w = T.tensor([1, 2, NaN, 4]);
    const b = T.tensor([0, -Infinity], { dtype: 'float64' });
    const bytes = T.io.save(null, { w, b });
    const before = T.memory().numTensors;
    expect(() => T.io.load(bytes, { finite: true })).toThrow(
      /tensor '(w' holds NaN at element 2|b' holds -Infinity at element 1)/,
    );
    expect(T.memory().numTensors).toBe(before); // nothing allocated
    const loaded = T.io.load(bytes); // default: loads as stored
    expect(Number.isNaN(loaded.w.dataSync()[2])).toBe(true);
    for (const t of Object.values(loaded)) t.dispose();
    w.dispose();
    b.dispose();
  });
});
