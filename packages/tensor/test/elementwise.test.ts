import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { assertClose, gradcheck } from '../src/index.js';
import { refBinary, rt, rng } from './helpers.js';

const shapePairs: [number[], number[]][] = [
  [
    [3, 4],
    [3, 4],
  ],
  [[3, 4], [4]],
  [
    [2, 1, 4],
    [3, 1],
  ],
  [[1], [2, 3]],
  [[], [2, 2]],
  [[0, 3], [3]],
  [
    [2, 0],
    [1, 1],
  ],
  [[5], [1]],
];

const binaryRefs: Record<string, (x: number, y: number) => number> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
  pow: (x, y) => Math.pow(x, y),
  maximum: (x, y) => Math.max(x, y),
  minimum: (x, y) => Math.min(x, y),
};
const cmpRefs: Record<string, (x: number, y: number) => number> = {
  eq: (x, y) => +(x === y),
  ne: (x, y) => +(x !== y),
  lt: (x, y) => +(x < y),
  le: (x, y) => +(x <= y),
  gt: (x, y) => +(x > y),
  ge: (x, y) => +(x >= y),
};

describe('binary ops: forward vs float64 reference, with broadcasting', () => {
  for (const [op, f] of Object.entries(binaryRefs)) {
    for (const [sa, sb] of shapePairs) {
      it(`${op} ${JSON.stringify(sa)} x ${JSON.stringify(sb)}`, () => {
        const a = rt(sa, 1, op === 'pow' ? { lo: 0.2, hi: 2 } : {});
        const b = rt(sb, 2, op === 'div' ? { lo: 0.5, hi: 2 } : {});
        const got = (T as any)[op](a, b) as T.Tensor;
        const ref = refBinary(a, b, f);
        expect(got.shape).toEqual(ref.shape);
        expect(got.dtype).toBe('float64');
        assertClose(op, ref.data, got);
      });
    }
  }
  for (const [op, f] of Object.entries(cmpRefs)) {
    it(`${op} gives int32 0/1`, () => {
      const a = T.tensor([
        [1, 2, 3],
        [3, 2, 1],
      ]);
      const b = T.tensor([2, 2, 2]);
      const got = (T as any)[op](a, b) as T.Tensor;
      expect(got.dtype).toBe('int32');
      assertClose(op, refBinary(a, b, f).data, got);
    });
  }
  it('numbers on either side, dtype promotion', () => {
    const i = T.tensor([1, 2, 3], { dtype: 'int32' });
    expect(i.add(1).dtype).toBe('int32');
    expect(i.add(0.5).dtype).toBe('float32');
    expect(i.div(T.tensor([2, 2, 2], { dtype: 'int32' })).toArray()).toEqual([0.5, 1, 1.5]);
    expect(T.sub(10, T.tensor([1, 2])).toArray()).toEqual([9, 8]);
    const f = T.tensor([1], { dtype: 'float32' });
    expect(f.add(T.tensor([1], { dtype: 'float64' })).dtype).toBe('float64');
    expect(T.maximum(T.tensor([NaN, 1]), 0).dataSync()[0]).toBeNaN();
  });
  it('non-contiguous operands (transposed and sliced views)', () => {
    const a = rt([4, 3], 5).transpose(0, 1); // [3, 4], strides [1, 3]
    const b = rt([3, 4], 6);
    assertClose('mul', refBinary(a, b, (x, y) => x * y).data, a.mul(b));
    assertClose('add bcast', refBinary(a, rt([4], 7), (x, y) => x + y).data, a.add(rt([4], 7)));
  });
  it('float32 results are rounded float32', () => {
    const a = rt([100], 3, { dtype: 'float32' });
    const b = rt([100], 4, { dtype: 'float32' });
    const got = a.mul(b);
    expect(got.dtype).toBe('float32');
    const ad = a.dataSync();
    const bd = b.dataSync();
    got.dataSync().forEach((v, i) => expect(v).toBe(Math.fround(ad[i] * bd[i])));
  });
});

describe('binary ops: gradcheck (float64, broadcasting, size-0/size-1 dims)', () => {
  for (const op of Object.keys(binaryRefs)) {
    for (const [sa, sb] of shapePairs) {
      it(`${op} ${JSON.stringify(sa)} x ${JSON.stringify(sb)}`, () => {
        const a = rt(sa, 11, op === 'pow' ? { lo: 0.3, hi: 2 } : {});
        // keep maximum/minimum away from ties, div away from 0
        const b =
          op === 'maximum' || op === 'minimum'
            ? rt(sb, 12).add(0.013)
            : rt(sb, 12, op === 'div' || op === 'pow' ? { lo: 0.5, hi: 2 } : {});
        gradcheck((x, y) => (T as any)[op](x, y), [a, b]);
      });
    }
  }
  it('maximum/minimum split ties evenly', () => {
    const a = T.tensor([1, 2], { requiresGrad: true, dtype: 'float64' });
    const b = T.tensor([1, 3], { requiresGrad: true, dtype: 'float64' });
    T.maximum(a, b).sum().backward();
    expect(a.grad!.toArray()).toEqual([0.5, 0]);
    expect(b.grad!.toArray()).toEqual([0.5, 1]);
  });
});

const unaryRefs: Record<string, [(x: number) => number, number, number]> = {
  neg: [(x) => -x, -2, 2],
  abs: [Math.abs, -2, 2],
  exp: [Math.exp, -2, 2],
  log: [Math.log, 0.1, 3],
  sqrt: [Math.sqrt, 0.1, 3],
  rsqrt: [(x) => 1 / Math.sqrt(x), 0.1, 3],
  sin: [Math.sin, -3, 3],
  cos: [Math.cos, -3, 3],
  tanh: [Math.tanh, -3, 3],
  sigmoid: [(x) => 1 / (1 + Math.exp(-x)), -5, 5],
  relu: [(x) => Math.max(0, x), -2, 2],
  silu: [(x) => x / (1 + Math.exp(-x)), -4, 4],
  softplus: [(x) => Math.log(1 + Math.exp(x)), -4, 4],
  square: [(x) => x * x, -2, 2],
  reciprocal: [(x) => 1 / x, 0.2, 3],
  log1p: [Math.log1p, -0.5, 3],
  expm1: [Math.expm1, -2, 2],
};

describe('unary ops: forward vs reference and gradcheck', () => {
  for (const [op, [f, lo, hi]] of Object.entries(unaryRefs)) {
    it(`${op}`, () => {
      const x = rt([3, 5], 21, { lo, hi });
      const ref = Float64Array.from(x.dataSync(), f);
      assertClose(op, ref, (T as any)[op](x), { rtol: 1e-12, atol: 1e-14 });
      // non-contiguous input, and a size-0 tensor
      const xt = rt([5, 3], 22, { lo, hi }).transpose(0, 1);
      assertClose(`${op} (transposed)`, Float64Array.from(xt.dataSync(), f), (T as any)[op](xt), {
        rtol: 1e-12,
        atol: 1e-14,
      });
      expect(((T as any)[op](T.zeros([0, 2])) as T.Tensor).shape).toEqual([0, 2]);
      // relu/abs: keep inputs away from the kink
      const g =
        op === 'relu' || op === 'abs'
          ? rt([2, 3], 23, { lo: 0.1, hi: 2 }).mul(T.tensor([1, -1, 1], { dtype: 'float64' }))
          : rt([2, 3], 23, { lo, hi });
      gradcheck((t) => (T as any)[op](t), [g]);
      gradcheck((t) => (T as any)[op](t), [g.transpose(0, 1)]);
    });
  }
  it('gelu exact matches x*Phi(x) (erf from a 60-term series) and tanh variant', () => {
    const xs = [-6, -3.2, -1, -0.3, 0, 0.5, 1.7, 2.9, 3.1, 5];
    const erfRef = (x: number) => {
      // Maclaurin series, fine to 1e-13 for |x| <= 6 with enough terms in float64 via Kahan-free sum
      let sum = 0;
      let term = x;
      for (let n = 0; n < 200; n++) {
        sum += term / (2 * n + 1);
        term *= (-x * x) / (n + 1);
      }
      return (2 / Math.sqrt(Math.PI)) * sum;
    };
    const x = T.tensor(xs, { dtype: 'float64' });
    const ref = xs.map((v) => 0.5 * v * (1 + erfRef(v / Math.SQRT2)));
    assertClose('gelu', ref, T.gelu(x), { rtol: 1e-9, atol: 1e-9 });
    const tanhRef = xs.map(
      (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
    );
    assertClose('gelu tanh', tanhRef, T.gelu(x, { approximate: 'tanh' }), { rtol: 1e-12 });
    gradcheck((t) => T.gelu(t), [rt([7], 31, { lo: -4, hi: 4 })]);
    gradcheck((t) => T.gelu(t, { approximate: 'tanh' }), [rt([7], 32, { lo: -4, hi: 4 })]);
  });
  it('clamp forward, gradient 1 inside and 0 outside, bad bounds', () => {
    const x = T.tensor([-2, -0.5, 0.5, 2], { dtype: 'float64', requiresGrad: true });
    const y = T.clamp(x, -1, 1);
    expect(y.toArray()).toEqual([-1, -0.5, 0.5, 1]);
    y.sum().backward();
    expect(x.grad!.toArray()).toEqual([0, 1, 1, 0]);
    expect(T.clamp(x, null, 0).toArray()).toEqual([-2, -0.5, 0, 0]);
    expect(() => T.clamp(x, 1, -1)).toThrow(/min 1 is larger than max -1/);
    gradcheck((t) => t.clamp(-0.5, 0.5), [rt([6], 33).mul(0.93)]);
  });
  it('where selects and routes gradients', () => {
    const r = rng(3);
    const cond = T.tensor([1, 0, 1, 0], { dtype: 'int32' });
    const a = rt([4], 41);
    const b = rt([2, 1], 42);
    const got = T.where(cond, a, b);
    const ad = a.dataSync();
    const bd = b.dataSync();
    const ref = [0, 1].flatMap((i) => [0, 1, 2, 3].map((j) => (cond.dataSync()[j] ? ad[j] : bd[i])));
    assertClose('where', ref, got);
    gradcheck((x, y) => T.where(cond, x, y), [a, b]);
    expect(T.where(T.tensor([0, 1], { dtype: 'int32' }), 5, T.tensor([1, 2])).toArray()).toEqual([1, 5]);
    void r;
  });
});
