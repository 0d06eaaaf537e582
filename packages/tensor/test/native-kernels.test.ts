// Tensors large enough (>= 512 elements) to take the addon's elementwise/reduction kernels,
// checked against float64 JS references: contiguous, broadcast and non-contiguous operands,
// float32 and float64, and shapes whose single long run is split across threads.
import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { assertClose } from '../src/index.js';
import { refBinary, rt } from './helpers.js';

const bin: Record<string, (x: number, y: number) => number> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
  maximum: Math.max,
  minimum: Math.min,
};
const un: Record<string, [(x: number) => number, number, number]> = {
  neg: [(x) => -x, -2, 2],
  abs: [Math.abs, -2, 2],
  exp: [Math.exp, -3, 3],
  log: [Math.log, 0.1, 3],
  sqrt: [Math.sqrt, 0.1, 3],
  rsqrt: [(x) => 1 / Math.sqrt(x), 0.1, 3],
  tanh: [Math.tanh, -3, 3],
  sigmoid: [(x) => 1 / (1 + Math.exp(-x)), -5, 5],
  relu: [(x) => Math.max(0, x), -2, 2],
  silu: [(x) => x / (1 + Math.exp(-x)), -4, 4],
  softplus: [(x) => Math.log1p(Math.exp(x)), -4, 4],
  square: [(x) => x * x, -2, 2],
  sign: [Math.sign, -2, 2],
  reciprocal: [(x) => 1 / x, 0.2, 3],
  log1p: [Math.log1p, -0.5, 3],
  expm1: [Math.expm1, -2, 2],
  sin: [Math.sin, -3, 3],
  cos: [Math.cos, -3, 3],
};

describe('native elementwise kernels (large tensors)', () => {
  it('the addon exposes the tensor kernels', () => expect(T.hasNativeTensorOps).toBe(true));
  for (const dtype of ['float32', 'float64'] as const) {
    const tol = dtype === 'float32' ? { rtol: 2e-6, atol: 1e-6 } : { rtol: 1e-14, atol: 1e-15 };
    for (const [op, f] of Object.entries(bin)) {
      it(`${op} ${dtype}: same shape, row broadcast, column broadcast, transposed, long run`, () => {
        const cases: [T.Tensor, T.Tensor][] = [
          [rt([64, 48], 1, { dtype }), rt([64, 48], 2, { dtype, lo: 0.5, hi: 2 })],
          [rt([64, 48], 3, { dtype }), rt([48], 4, { dtype, lo: 0.5, hi: 2 })],
          [rt([64, 1], 5, { dtype }), rt([64, 48], 6, { dtype, lo: 0.5, hi: 2 })],
          [rt([48, 64], 7, { dtype }).t(), rt([64, 48], 8, { dtype, lo: 0.5, hi: 2 })],
          [rt([100_000], 9, { dtype }), rt([100_000], 10, { dtype, lo: 0.5, hi: 2 })],
          [rt([3, 40_000], 11, { dtype }), rt([1], 12, { dtype, lo: 0.5, hi: 2 })],
        ];
        for (const [a, b] of cases) {
          const ref = refBinary(a, b, f);
          const got = (T as any)[op](a, b) as T.Tensor;
          expect(got.shape).toEqual(ref.shape);
          const r = dtype === 'float32' ? ref.data.map(Math.fround) : ref.data;
          assertClose(`${op} ${JSON.stringify(a.shape)}x${JSON.stringify(b.shape)}`, r, got, tol);
        }
      });
    }
    for (const [op, [f, lo, hi]] of Object.entries(un)) {
      it(`${op} ${dtype}: contiguous and strided`, () => {
        for (const x of [rt([70_000], 13, { dtype, lo, hi }), rt([40, 30], 14, { dtype, lo, hi }).t()]) {
          const xs = x.dataSync();
          const ref = Float64Array.from(xs, f);
          assertClose(
            op,
            ref,
            (T as any)[op](x),
            dtype === 'float32' ? { rtol: 1e-5, atol: 1e-6 } : { rtol: 1e-13, atol: 1e-15 },
          );
        }
      });
    }
    it(`gelu/clamp ${dtype}`, () => {
      const x = rt([2000], 15, { dtype, lo: -4, hi: 4 });
      const small = x.narrow(0, 0, 10); // stays on the JS path
      const ref = Array.from(small.gelu().dataSync());
      assertClose('gelu native vs JS', ref, x.gelu().narrow(0, 0, 10), { rtol: 1e-6, atol: 1e-7 });
      assertClose(
        'clamp',
        Array.from(x.dataSync(), (v) => Math.min(0.5, Math.max(-0.5, v))),
        x.clamp(-0.5, 0.5),
      );
    });
    it(`row reductions ${dtype}: sum/mean/max/min over the last dims`, () => {
      const x = rt([50, 700], 16, { dtype });
      const xs = x.dataSync();
      const rows = Array.from({ length: 50 }, (_, r) => Array.from(xs.subarray(r * 700, r * 700 + 700)));
      const t = dtype === 'float32' ? { rtol: 1e-5, atol: 1e-5 } : { rtol: 1e-12, atol: 1e-12 };
      assertClose(
        'sum',
        rows.map((r) => r.reduce((a, b) => a + b, 0)),
        x.sum(-1),
        t,
      );
      assertClose(
        'mean',
        rows.map((r) => r.reduce((a, b) => a + b, 0) / 700),
        x.mean(1),
        t,
      );
      assertClose(
        'max',
        rows.map((r) => Math.max(...r)),
        x.max(-1),
        t,
      );
      assertClose(
        'min',
        rows.map((r) => Math.min(...r)),
        x.min(-1),
        t,
      );
      assertClose('sum all', [Array.from(xs).reduce((a, b) => a + b, 0)], x.sum(), {
        rtol: 1e-6,
        atol: 1e-4,
      });
      const withNaN = x.clone();
      withNaN.rawView()[705] = NaN;
      expect(Number.isNaN(withNaN.max(-1).dataSync()[1])).toBe(true);
    });
  }
});

describe('native derivative kernels (backward of relu, silu, gelu, clamp on large tensors)', () => {
  const erf = (x: number) => {
    let sum = 0;
    let term = x;
    for (let n = 0; n < 200; n++) {
      sum += term / (2 * n + 1);
      term *= (-x * x) / (n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  };
  const derivs: Record<string, [(t: T.Tensor) => T.Tensor, (x: number) => number]> = {
    relu: [(t) => t.relu(), (x) => (x > 0 ? 1 : 0)],
    silu: [
      (t) => t.silu(),
      (x) => {
        const s = 1 / (1 + Math.exp(-x));
        return s * (1 + x * (1 - s));
      },
    ],
    gelu: [
      (t) => t.gelu(),
      (x) => 0.5 * (1 + erf(x / Math.SQRT2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI),
    ],
    clamp: [(t) => t.clamp(-0.5, 0.7), (x) => (x >= -0.5 && x <= 0.7 ? 1 : 0)],
  };
  for (const [name, [f, d]] of Object.entries(derivs)) {
    it(name, () => {
      const x = rt([3000], 30, { lo: -4, hi: 4 });
      x.requiresGrad = true;
      f(x).sum().backward();
      assertClose(`d ${name}`, Array.from(x.dataSync(), d), x.grad!, { rtol: 1e-9, atol: 1e-12 });
    });
  }
});

describe('native float32 exp (vectorised polynomial)', () => {
  it('is within 2 ulp over [-87, 88] and handles overflow, underflow, infinities and NaN', () => {
    const n = 100_000;
    const x = T.linspace(-87, 88, n);
    const xs = x.dataSync();
    const got = x.exp().dataSync();
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const ref = Math.exp(xs[i]);
      const ulp = Math.abs(Math.fround(ref) - Math.fround(ref * (1 + 2 ** -23))) || 1e-45;
      worst = Math.max(worst, Math.abs(got[i] - ref) / ulp);
    }
    expect(worst).toBeLessThan(2.5);
    const edge = new Float32Array(1024).fill(0);
    edge.set([89, 1000, Infinity, -Infinity, -104, -200, NaN, 0, -87.5, 88.7]);
    const e = T.fromTypedArray(edge).exp().dataSync();
    expect(Array.from(e.subarray(0, 4))).toEqual([Infinity, Infinity, Infinity, 0]);
    expect(e[4]).toBe(0);
    expect(e[5]).toBe(0);
    expect(Number.isNaN(e[6])).toBe(true);
    expect(e[7]).toBe(1);
    assertClose('near underflow', [Math.exp(-87.5), Math.exp(88.7)], [e[8], e[9]], {
      rtol: 1e-5,
      atol: 1e-44,
    });
  });
});

describe('native float32 tanh (vectorised)', () => {
  it('is within 3 ulp over [-10, 10] (both branches), odd, saturates, NaN stays NaN', () => {
    const n = 100_001;
    const x = T.linspace(-10, 10, n);
    const xs = x.dataSync();
    const got = x.tanh().dataSync();
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const ref = Math.tanh(xs[i]);
      const ulp = Math.max(Math.abs(Math.fround(ref) - Math.fround(ref * (1 + 2 ** -23))), 1e-45);
      worst = Math.max(worst, Math.abs(got[i] - ref) / ulp);
    }
    expect(worst).toBeLessThan(3);
    const edge = new Float32Array(1024);
    edge.set([NaN, Infinity, -Infinity, 1e-30, -0.6249, 0.6251]);
    const e = T.fromTypedArray(edge).tanh().dataSync();
    expect(Number.isNaN(e[0])).toBe(true);
    expect([e[1], e[2]]).toEqual([1, -1]);
    expect(e[3]).toBe(Math.fround(1e-30));
    assertClose('branch edges', [Math.tanh(-0.6249), Math.tanh(0.6251)], [e[4], e[5]], { rtol: 3e-7 });
  });
});

describe('native column sums and softmax rows', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    const t = dtype === 'float32' ? { rtol: 1e-5, atol: 1e-6 } : { rtol: 1e-12, atol: 1e-14 };
    it(`sum/mean over leading dims ${dtype}`, () => {
      const x = rt([30, 4, 50], 21, { dtype });
      const xs = x.dataSync();
      const ref = new Float64Array(200);
      for (let r = 0; r < 30; r++) for (let j = 0; j < 200; j++) ref[j] += xs[r * 200 + j];
      assertClose('sum dim 0', ref, x.sum(0), t);
      assertClose(
        'mean dim 0',
        ref.map((v) => v / 30),
        x.mean(0),
        t,
      );
      const ref2 = new Float64Array(50);
      for (let r = 0; r < 120; r++) for (let j = 0; j < 50; j++) ref2[j] += xs[r * 50 + j];
      assertClose('sum dims 0,1', ref2, x.sum([0, 1]), t);
      // tall and narrow (bias-gradient shape): row blocks summed in parallel, then combined
      const tall = rt([5000, 40], 23, { dtype });
      const td = tall.dataSync();
      const ref3 = new Float64Array(40);
      for (let r = 0; r < 5000; r++) for (let j = 0; j < 40; j++) ref3[j] += td[r * 40 + j];
      assertClose('sum tall', ref3, tall.sum(0), { rtol: 1e-5, atol: 1e-4 });
      assertClose(
        'mean tall',
        ref3.map((v) => v / 5000),
        tall.mean(0),
        t,
      );
      // wide: column tasks
      const wide = rt([40, 5000], 24, { dtype });
      const wd = wide.dataSync();
      const ref4 = new Float64Array(5000);
      for (let r = 0; r < 40; r++) for (let j = 0; j < 5000; j++) ref4[j] += wd[r * 5000 + j];
      assertClose('sum wide', ref4, wide.sum(0), t);
    });
    it(`softmax/logSoftmax rows ${dtype}, incl. -inf and NaN rows`, () => {
      const x = rt([40, 33], 22, { dtype, lo: -5, hi: 5 });
      const v = x.rawView();
      for (let j = 0; j < 33; j++) if (j % 3) v[33 + j] = -Infinity; // row 1: a few finite entries
      v[2 * 33 + 4] = NaN; // row 2: NaN
      const xs = x.dataSync();
      const refLog = new Float64Array(xs.length);
      for (let r = 0; r < 40; r++) {
        const row = Array.from(xs.subarray(r * 33, r * 33 + 33));
        const m = Math.max(...row.filter((q) => !Number.isNaN(q)));
        const lz = m + Math.log(row.reduce((s, q) => s + Math.exp(q - m), 0));
        row.forEach((q, j) => (refLog[r * 33 + j] = row.some(Number.isNaN) ? NaN : q - lz));
      }
      assertClose('logSoftmax', refLog, x.logSoftmax(-1), t);
      assertClose('softmax', refLog.map(Math.exp), x.softmax(-1), t);
    });
  }
});

describe('native reductions over middle dims (through a permuted copy)', () => {
  for (const op of ['sum', 'mean', 'max', 'min'] as const) {
    it(op, () => {
      const x = rt([6, 50, 8], 40);
      const xd = x.toArray() as number[][][];
      const f = (v: number[]) =>
        op === 'sum'
          ? v.reduce((a, b) => a + b, 0)
          : op === 'mean'
            ? v.reduce((a, b) => a + b, 0) / v.length
            : op === 'max'
              ? Math.max(...v)
              : Math.min(...v);
      const ref = xd.flatMap((m) => [0, 1, 2, 3, 4, 5, 6, 7].map((k) => f(m.map((row) => row[k]))));
      assertClose(`${op} dim 1`, ref, (x as any)[op](1), { rtol: 1e-12, atol: 1e-14 });
    });
  }
});
