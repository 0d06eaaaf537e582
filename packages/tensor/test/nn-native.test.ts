// The native fused NN kernels (native/src/cpu/nn_*.cc) against their plain TypeScript
// references (src/nn/functional/kernels/*.ts): float32 and float64, optional weight/bias,
// ignored targets, K > T, row counts spanning many reduction blocks; identical bits for 1 and
// N threads; and the binding's argument errors.
import { native, numThreads, setNumThreads } from '@nl/native';
import { afterAll, describe, expect, it } from 'vitest';
import * as ref from '../src/nn/functional/kernels/conv1d.js';
import * as refCe from '../src/nn/functional/kernels/cross-entropy.js';
import { dropoutMask } from '../src/nn/functional/kernels/dropout-mask.js';
import * as nat from '../src/nn/functional/kernels/native.js';
import * as refNorm from '../src/nn/functional/kernels/norm.js';

type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;
const threads = numThreads();
afterAll(() => setNumThreads(threads));

function rand(n: number, seed: number, C: Ctor = Float64Array): Float32Array | Float64Array {
  const out = new C(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 4294967296) * 4 - 2;
  }
  return out;
}

/** max |a - b| / (1 + |b|) */
function diff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return m;
}

const cases = [
  { C: Float64Array, tol: 1e-12, name: 'f64' },
  { C: Float32Array, tol: 2e-5, name: 'f32' },
] as const;
const shapes = [
  [3, 5],
  [1000, 7],
  [70_000, 3],
] as const;

describe.each(cases)('native norms vs reference ($name)', ({ C, tol }) => {
  it.each(shapes)('rmsNorm rows=%i d=%i, with and without weight', (rows, d) => {
    const x = rand(rows * d, 1, C);
    const g = rand(rows * d, 2, C);
    for (const w of [rand(d, 3, C), null]) {
      const [y0, y1] = [new C(rows * d), new C(rows * d)];
      const [r0, r1] = [new Float64Array(rows), new Float64Array(rows)];
      refNorm.rmsNormForward(x, w, rows, d, 1e-5, y0, r0);
      nat.rmsNormForward(x, w, rows, d, 1e-5, y1, r1);
      expect(diff(y1, y0)).toBeLessThan(tol);
      expect(diff(r1, r0)).toBeLessThan(tol);
      const [dx0, dx1] = [new C(rows * d), new C(rows * d)];
      const [dw0, dw1] = w ? [new Float64Array(d), new Float64Array(d)] : [null, null];
      refNorm.rmsNormBackward(g, x, w, r0, rows, d, dx0, dw0);
      nat.rmsNormBackward(g, x, w, r0, rows, d, dx1, dw1);
      expect(diff(dx1, dx0)).toBeLessThan(tol);
      if (w) expect(diff(dw1!, dw0!)).toBeLessThan(tol * 10);
    }
  });

  it.each(shapes)('layerNorm rows=%i d=%i, affine and not', (rows, d) => {
    const x = rand(rows * d, 4, C);
    const g = rand(rows * d, 5, C);
    for (const [w, b] of [
      [rand(d, 6, C), rand(d, 7, C)],
      [null, null],
    ]) {
      const [y0, y1] = [new C(rows * d), new C(rows * d)];
      const st = [0, 1, 2, 3].map(() => new Float64Array(rows));
      refNorm.layerNormForward(x, w, b, rows, d, 1e-5, y0, st[0], st[1]);
      nat.layerNormForward(x, w, b, rows, d, 1e-5, y1, st[2], st[3]);
      expect(diff(y1, y0)).toBeLessThan(tol);
      expect(diff(st[3], st[1])).toBeLessThan(tol);
      const [dx0, dx1] = [new C(rows * d), new C(rows * d)];
      const grads = w ? [0, 1, 2, 3].map(() => new Float64Array(d)) : [null, null, null, null];
      refNorm.layerNormBackward(g, x, w, st[0], st[1], rows, d, dx0, grads[0], grads[1]);
      nat.layerNormBackward(g, x, w, st[0], st[1], rows, d, dx1, grads[2], grads[3]);
      expect(diff(dx1, dx0)).toBeLessThan(tol * 10);
      if (w) {
        expect(diff(grads[2]!, grads[0]!)).toBeLessThan(tol * 10);
        expect(diff(grads[3]!, grads[1]!)).toBeLessThan(tol * 10);
      }
    }
  });
});

describe.each(cases)('native cross-entropy and conv1d vs reference ($name)', ({ C, tol }) => {
  it.each([
    [4, 3],
    [3000, 17],
  ])('crossEntropy n=%i c=%i with ignored rows', (n, c) => {
    const logits = rand(n * c, 8, C).map((v) => v * 5) as Float32Array | Float64Array;
    const targets = Int32Array.from({ length: n }, (_, i) => (i % 7 === 3 ? -1 : (i * 5) % c));
    const [l0, l1] = [new Float64Array(n), new Float64Array(n)];
    const [p0, p1] = [new C(n * c), new C(n * c)];
    refCe.crossEntropyForward(logits, targets, n, c, -1, l0, p0);
    nat.crossEntropyForward(logits, targets, n, c, -1, l1, p1);
    expect(diff(l1, l0)).toBeLessThan(tol * 10);
    expect(diff(p1, p0)).toBeLessThan(tol);
    const scale = rand(n, 9);
    const [g0, g1] = [new C(n * c), new C(n * c)];
    refCe.crossEntropyBackward(p0, targets, n, c, -1, scale, g0);
    nat.crossEntropyBackward(p0, targets, n, c, -1, Float64Array.from(scale), g1);
    expect(diff(g1, g0)).toBeLessThan(tol);
  });

  it.each([
    [2, 5, 3, 4],
    [3, 4, 2, 7],
    [4, 600, 33, 4],
  ])('causalConv1d B=%i T=%i C=%i K=%i, with and without bias', (b, t, c, k) => {
    const x = rand(b * t * c, 10, C);
    const w = rand(c * k, 11, C);
    const g = rand(b * t * c, 12, C);
    for (const bias of [rand(c, 13, C), null]) {
      const [y0, y1] = [new C(b * t * c), new C(b * t * c)];
      ref.causalConv1dForward(x, w, bias, b, t, c, k, y0);
      nat.causalConv1dForward(x, w, bias, b, t, c, k, y1);
      expect(diff(y1, y0)).toBeLessThan(tol);
      const [dx0, dx1] = [new C(b * t * c), new C(b * t * c)];
      const [dw0, dw1] = [new Float64Array(c * k), new Float64Array(c * k)];
      const [db0, db1] = bias ? [new Float64Array(c), new Float64Array(c)] : [null, null];
      ref.causalConv1dBackward(g, x, w, b, t, c, k, dx0, dw0, db0);
      nat.causalConv1dBackward(g, x, w, b, t, c, k, dx1, dw1, db1);
      expect(diff(dx1, dx0)).toBeLessThan(tol);
      expect(diff(dw1, dw0)).toBeLessThan(tol * 10);
      if (bias) expect(diff(db1!, db0!)).toBeLessThan(tol * 10);
    }
  });
});

/** a * b elementwise, rounded to C (float products are exact in double, so this is C's product). */
function times(a: ArrayLike<number>, b: ArrayLike<number>, C: Ctor): Float32Array | Float64Array {
  const out = new C(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] * b[i];
  return out;
}

describe.each(cases)('native dropout vs reference ($name)', ({ C }) => {
  it.each([0, 1, -1, 2 ** 31, 2 ** 40 + 7])(
    'masks are bit-identical (seed %d), y = x * mask, dx = g * mask',
    (seed) => {
      const n = 70_001;
      const x = rand(n, 17, C);
      const g = rand(n, 18, C);
      for (const p of [0.1, 0.5, 0.9]) {
        const want = new C(n);
        dropoutMask(seed, p, want);
        const [mask, y, dx] = [new C(n), new C(n), new C(n)];
        nat.dropoutForward(x, seed, p, mask, y);
        expect(mask).toEqual(want);
        expect(y).toEqual(times(x, want, C));
        nat.dropoutBackward(g, mask, dx);
        expect(dx).toEqual(times(g, want, C));
      }
    },
  );
});

describe('native nn kernels: threads and errors', () => {
  it('weight gradients are bit-identical with 1 thread and with many', () => {
    const [rows, d] = [5000, 9];
    const x = rand(rows * d, 14);
    const g = rand(rows * d, 15);
    const w = rand(d, 16);
    const rstd = new Float64Array(rows);
    nat.rmsNormForward(x, w, rows, d, 1e-6, new Float64Array(rows * d), rstd);
    const run = (): Float64Array => {
      const dw = new Float64Array(d);
      nat.rmsNormBackward(g, x, w, rstd, rows, d, new Float64Array(rows * d), dw);
      return dw;
    };
    setNumThreads(1);
    const one = run();
    setNumThreads(Math.max(2, threads));
    expect(run()).toEqual(one);
  });

  it('names bad arguments instead of crashing', () => {
    const f = new Float32Array(6);
    expect(() => native.rmsNormForward(f, null, 2, 4, 1e-6, f, new Float64Array(2))).toThrow(
      /nl.rmsNormForward: x must have 8 elements, got 6/,
    );
    expect(() => native.rmsNormForward(f, new Float64Array(3), 2, 3, 1e-6, f, new Float64Array(2))).toThrow(
      /weight is a Float64Array but earlier arrays are Float32Array/,
    );
    expect(() => native.rmsNormForward(f, null, 2, 3, 1e-6, f, new Float32Array(2) as never)).toThrow(
      /rstd must be a Float64Array/,
    );
    expect(() =>
      native.crossEntropyForward(
        f,
        new Int32Array([0, 3]),
        2,
        3,
        -100,
        new Float64Array(2),
        new Float32Array(6),
      ),
    ).toThrow(/nl.crossEntropyForward: target 3 at row 1 is out of range \[0, 3\)/);
    expect(() =>
      native.causalConv1dForward(f, new Float32Array(2), null, 1, 2, 3, 1, new Float32Array(6)),
    ).toThrow(/weight must have 3 elements, got 2/);
    expect(() =>
      native.layerNormForward(
        new Int32Array(6) as never,
        null,
        null,
        2,
        3,
        1e-5,
        f,
        new Float64Array(2),
        new Float64Array(2),
      ),
    ).toThrow(/x must be a Float32Array or Float64Array/);
    expect(() => native.dropoutForward(f, 1, 1, f, f)).toThrow(/nl.dropoutForward: p must be in \[0, 1\)/);
    expect(() => native.dropoutForward(f, 0.5, 0.1, f, f)).toThrow(/seed must be an integer/);
    expect(() => native.dropoutBackward(f, new Float32Array(5), f)).toThrow(
      /mask must have 6 elements, got 5/,
    );
  });
});
