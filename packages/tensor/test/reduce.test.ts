import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { assertClose, gradcheck } from '../src/index.js';
import { rt, unravel, numel } from './helpers.js';

/** float64 reference reduction over `dims` (sorted), output shape with keepDim. */
function refReduce(
  x: T.Tensor,
  dims: number[],
  f: (vals: number[]) => number,
  keepDim: boolean,
): { shape: number[]; data: number[] } {
  const shape = x.shape.map((s, d) => (dims.includes(d) ? 1 : s));
  const groups: number[][] = Array.from({ length: numel(shape) }, () => []);
  const xd = x.dataSync();
  for (let i = 0; i < xd.length; i++) {
    const idx = unravel(i, x.shape);
    let o = 0;
    for (let d = 0; d < shape.length; d++) o = o * shape[d] + (dims.includes(d) ? 0 : idx[d]);
    groups[o].push(xd[i]);
  }
  return { shape: keepDim ? shape : x.shape.filter((_, d) => !dims.includes(d)), data: groups.map(f) };
}

const refs: Record<string, (v: number[]) => number> = {
  sum: (v) => v.reduce((a, b) => a + b, 0),
  mean: (v) => v.reduce((a, b) => a + b, 0) / v.length,
  prod: (v) => v.reduce((a, b) => a * b, 1),
  max: (v) => Math.max(...v),
  min: (v) => Math.min(...v),
  logsumexp: (v) => Math.log(v.reduce((a, b) => a + Math.exp(b), 0)),
  var: (v) => {
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    return v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1);
  },
};
const cases: [number[], number[] | undefined][] = [
  [[4], undefined],
  [[3, 4], [1]],
  [[3, 4], [0]],
  [
    [2, 3, 4],
    [0, 2],
  ],
  [[2, 3, 4], [1]],
  [
    [2, 1, 5],
    [1, 2],
  ],
  [
    [5, 2],
    [0, 1],
  ],
];

describe('reductions: forward vs reference (keepDim both ways) and gradcheck', () => {
  for (const [op, f] of Object.entries(refs)) {
    for (const [shape, dims] of cases) {
      it(`${op} ${JSON.stringify(shape)} dims=${JSON.stringify(dims)}`, () => {
        const x = rt(shape, 7, { lo: 0.5, hi: 1.5 }).mul(T.tensor([1], { dtype: 'float64' }));
        const all = dims ?? shape.map((_, i) => i);
        for (const keepDim of [false, true]) {
          const got = op === 'var' ? T.variance(x, dims, { keepDim }) : (T as any)[op](x, dims, keepDim);
          const ref = refReduce(x, all, f, keepDim);
          expect(got.shape).toEqual(ref.shape);
          assertClose(`${op} keepDim=${keepDim}`, ref.data, got, { rtol: 1e-12 });
        }
        gradcheck((t) => (op === 'var' ? T.variance(t, dims) : (T as any)[op](t, dims)), [x]);
        // non-contiguous input
        const xt = rt([...shape].reverse(), 8, { lo: 0.5, hi: 1.5 }).permute(
          shape.map((_, i) => shape.length - 1 - i),
        );
        assertClose(
          `${op} permuted`,
          refReduce(xt, all, f, false).data,
          op === 'var' ? T.variance(xt, dims) : (T as any)[op](xt, dims),
          { rtol: 1e-12 },
        );
        gradcheck(
          (t) =>
            op === 'var'
              ? T.variance(t.permute(shape.map((_, i) => shape.length - 1 - i)), dims)
              : (T as any)[op](t.permute(shape.map((_, i) => shape.length - 1 - i)), dims),
          [rt([...shape].reverse(), 9, { lo: 0.5, hi: 1.5 })],
        );
      });
    }
  }
  it('max/min tie gradients split evenly; prod with zeros', () => {
    const x = T.tensor([1, 3, 3, 2], { dtype: 'float64', requiresGrad: true });
    x.max().backward();
    expect(x.grad!.toArray()).toEqual([0, 0.5, 0.5, 0]);
    gradcheck(
      (t) => t.prod(1),
      [
        T.tensor(
          [
            [0, 2, 3],
            [1, 0, 0],
          ],
          { dtype: 'float64' },
        ),
      ],
    );
  });
  it('argmax/argmin (first occurrence), int32 results', () => {
    const x = T.tensor([
      [1, 5, 5],
      [7, 0, 7],
    ]);
    expect(x.argmax(1).toArray()).toEqual([1, 0]);
    expect(x.argmin(1).toArray()).toEqual([0, 1]);
    expect(x.argmax(0, true).toArray()).toEqual([[1, 0, 1]]);
    expect(x.argmax().item()).toBe(3);
    expect(x.argmax(1).dtype).toBe('int32');
  });
  it('empty reductions: sum 0, mean NaN, max throws', () => {
    const e = T.zeros([0, 3]);
    expect(e.sum(0).toArray()).toEqual([0, 0, 0]);
    expect(Number.isNaN(e.mean().item())).toBe(true);
    expect(() => e.max(0)).toThrow(/cannot reduce over an empty dimension/);
  });
  it('var with correction 0, negative dims, logsumexp with -inf', () => {
    const x = T.tensor([[1, 2, 3, 4]], { dtype: 'float64' });
    expect(x.var(-1, { correction: 0 }).item()).toBeCloseTo(1.25, 12);
    expect(T.logsumexp(T.tensor([-Infinity, -Infinity])).item()).toBe(-Infinity);
    expect(T.logsumexp(T.tensor([1000, 1000], { dtype: 'float64' })).item()).toBeCloseTo(
      1000 + Math.log(2),
      10,
    );
  });
  it('int32 sums stay int32; mean of int32 is float32', () => {
    const i = T.tensor([1, 2, 4], { dtype: 'int32' });
    expect(i.sum().dtype).toBe('int32');
    expect(i.sum().item()).toBe(7);
    expect(i.mean().dtype).toBe('float32');
  });
  it('bad dims name the rank', () => {
    expect(() => T.zeros([2, 3]).sum(2)).toThrow(/dim 2 is out of range for a tensor of rank 2/);
  });
});

describe('softmax / logSoftmax', () => {
  it('forward vs reference along each dim, gradcheck incl. non-contiguous', () => {
    const x = rt([2, 3, 4], 50, { lo: -3, hi: 3 });
    for (const dim of [0, 1, 2, -1]) {
      const d = dim < 0 ? dim + 3 : dim;
      const lse = refReduce(x, [d], refs.logsumexp, true);
      const xd = x.dataSync();
      const refLog = Array.from(xd, (v, i) => {
        const idx = unravel(i, x.shape);
        idx[d] = 0;
        let o = 0;
        for (let k = 0; k < 3; k++) o = o * lse.shape[k] + idx[k];
        return v - lse.data[o];
      });
      assertClose(`logSoftmax dim ${dim}`, refLog, T.logSoftmax(x, dim), { rtol: 1e-12, atol: 1e-14 });
      assertClose(`softmax dim ${dim}`, refLog.map(Math.exp), T.softmax(x, dim), {
        rtol: 1e-12,
        atol: 1e-14,
      });
      gradcheck((t) => T.softmax(t, dim), [x]);
      gradcheck((t) => T.logSoftmax(t, dim), [x]);
    }
    gradcheck((t) => t.transpose(0, 2).softmax(1), [rt([3, 2, 4], 51)]);
  });
  it('stable for large inputs; -inf entries get probability 0', () => {
    const y = T.softmax(T.tensor([1000, 1001, -Infinity], { dtype: 'float64' }));
    assertClose('softmax', [1 / (1 + Math.E), Math.E / (1 + Math.E), 0], y);
  });
});

describe('sumToShape', () => {
  it('sums broadcast dims away and is differentiable', () => {
    const g = rt([2, 3, 4], 3);
    const s = T.sumToShape(g, [3, 1]);
    expect(s.shape).toEqual([3, 1]);
    const gd = g.toArray() as number[][][];
    assertClose(
      'sumToShape',
      [0, 1, 2].map((j) => gd.reduce((a, m) => a + m[j].reduce((p, q) => p + q, 0), 0)),
      s,
    );
    expect(T.sumToShape(g, [2, 3, 4])).toBe(g);
    expect(() => T.sumToShape(g, [5, 1])).toThrow(/cannot reduce \[2, 3, 4\] to \[5, 1\]/);
    gradcheck((t) => T.sumToShape(t, [1, 4]), [rt([2, 3, 4], 4)]);
  });
});
