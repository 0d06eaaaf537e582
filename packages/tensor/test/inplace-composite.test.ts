import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { assertClose, gradcheck } from '../src/index.js';
import { rt } from './helpers.js';

describe('in-place writes', () => {
  it('fill_/zero_/copy_ on contiguous and strided views (shared storage sees them)', () => {
    const x = T.zeros([2, 3]);
    x.t().select(0, 1).fill_(5); // column 1
    expect(x.toArray()).toEqual([
      [0, 5, 0],
      [0, 5, 0],
    ]);
    x.copy_(T.tensor([1, 2, 3]));
    expect(x.toArray()).toEqual([
      [1, 2, 3],
      [1, 2, 3],
    ]);
    x.narrow(1, 1, 2).copy_(
      T.tensor(
        [
          [7, 8],
          [9, 10],
        ],
        { dtype: 'float64' },
      ),
    );
    expect(x.toArray()).toEqual([
      [1, 7, 8],
      [1, 9, 10],
    ]);
    x.zero_();
    expect(x.sum().item()).toBe(0);
    const y = T.arange(4, undefined, 1, { dtype: 'float32' });
    y.slice(0, 1).copy_(y.slice(0, 0, 3)); // overlapping source is snapshotted
    expect(y.toArray()).toEqual([0, 0, 1, 2]);
    expect(() => x.copy_(T.zeros([4]))).toThrow(/source shape \[4\] cannot be broadcast to \[2, 3\]/);
  });
  it('refuse tensors requiring grad unless under noGrad', () => {
    const p = T.ones([2], { requiresGrad: true });
    expect(() => p.fill_(0)).toThrow(/in-place write to a tensor that requires grad/);
    T.noGrad(() => p.fill_(3));
    expect(p.toArray()).toEqual([3, 3]);
  });
});

describe('std / norm', () => {
  it('forward vs reference and gradcheck', () => {
    const x = rt([3, 5], 1);
    const xs = x.toArray() as number[][];
    const ref = xs.map((r) => {
      const m = r.reduce((a, b) => a + b, 0) / r.length;
      return Math.sqrt(r.reduce((a, b) => a + (b - m) ** 2, 0) / (r.length - 1));
    });
    assertClose('std', ref, x.std(1), { rtol: 1e-12 });
    assertClose('norm2', [Math.hypot(...xs.flat())], [x.norm().item()], { rtol: 1e-12 });
    assertClose(
      'norm1 dim',
      xs.map((r) => r.reduce((a, b) => a + Math.abs(b), 0)),
      x.norm(1, 1),
      { rtol: 1e-12 },
    );
    assertClose(
      'norm3',
      xs.map((r) => Math.cbrt(r.reduce((a, b) => a + Math.abs(b) ** 3, 0))),
      x.norm(3, -1),
      { rtol: 1e-12 },
    );
    assertClose(
      'norm inf',
      xs.map((r) => Math.max(...r.map(Math.abs))),
      x.norm(Infinity, 1),
      { rtol: 1e-12 },
    );
    gradcheck((t) => t.std(0), [x]);
    gradcheck((t) => t.norm(2, 1), [x]);
    gradcheck((t) => t.norm(3), [x]);
    expect(() => x.norm(0)).toThrow(/p must be positive/);
  });
});

describe('maskedFill / repeat / outer / topk / multinomial', () => {
  it('maskedFill and repeat forward + gradients', () => {
    const x = rt([2, 3], 5);
    const mask = T.tensor([0, 1, 0], { dtype: 'int32' });
    const xs = x.toArray() as number[][];
    expect(x.maskedFill(mask, -9).toArray()).toEqual(xs.map((r) => r.map((v, j) => (j === 1 ? -9 : v))));
    gradcheck((t) => t.maskedFill(mask, 0), [x]);
    const r = x.repeat([2, 1, 2]);
    expect(r.shape).toEqual([2, 2, 6]);
    expect(r.toArray()).toEqual([0, 1].map(() => xs.map((row) => [...row, ...row])));
    gradcheck((t) => t.repeat([3, 2]), [rt([2, 2], 6)]);
    expect(() => x.repeat([2])).toThrow(/1 repeats for a tensor of rank 2/);
  });
  it('outer', () => {
    const a = rt([3], 7);
    const b = rt([2], 8);
    const ad = a.dataSync();
    const bd = b.dataSync();
    assertClose(
      'outer',
      Array.from(ad).flatMap((u) => Array.from(bd, (v) => u * v)),
      T.outer(a, b),
    );
    gradcheck((u, v) => T.outer(u, v), [a, b]);
  });
  it('topk: sorted values and indices, ties by index, smallest, gradients', () => {
    const x = T.tensor(
      [
        [1, 5, 3, 5],
        [2, 0, 9, 4],
      ],
      { dtype: 'float64' },
    );
    const { values, indices } = x.topk(2);
    expect(values.toArray()).toEqual([
      [5, 5],
      [9, 4],
    ]);
    expect(indices.toArray()).toEqual([
      [1, 3],
      [2, 3],
    ]);
    expect(x.topk(1, 0, { largest: false }).indices.toArray()).toEqual([[0, 1, 0, 1]]);
    gradcheck((t) => t.topk(2, 1).values, [rt([3, 5], 9)]);
    expect(() => x.topk(5)).toThrow(/k 5 is out of range for dim -1 of size 4/);
  });
  it('multinomial: frequencies follow the weights; seeded; bad weights', () => {
    const w = T.tensor([
      [1, 0, 3],
      [0, 1, 0],
    ]);
    const g = new T.Generator(11);
    const s = T.multinomial(w, 4000, { generator: g });
    expect(s.shape).toEqual([2, 4000]);
    const rows = s.toArray() as number[][];
    const c0 = [0, 1, 2].map((k) => rows[0].filter((v) => v === k).length / 4000);
    expect(c0[1]).toBe(0);
    expect(Math.abs(c0[2] - 0.75)).toBeLessThan(0.03);
    expect(rows[1].every((v) => v === 1)).toBe(true);
    const again = T.multinomial(w, 4000, { generator: new T.Generator(11) });
    expect(again.toArray()).toEqual(rows);
    expect(() => T.multinomial(T.tensor([0, 0]), 1)).toThrow(/sums to 0/);
    expect(() => T.multinomial(T.tensor([1, -1]), 1)).toThrow(/finite and non-negative/);
  });
});

describe('in-place writes vs autograd', () => {
  it('backward refuses values modified in place after they were saved', () => {
    const w = T.tensor([1, 2], { requiresGrad: true, dtype: 'float64' });
    const x = T.tensor([3, 4], { dtype: 'float64' });
    const y = w.mul(x).sum();
    x.fill_(0);
    expect(() => y.backward()).toThrow(/saved by op 'mul' was modified in place/);
    const x2 = T.tensor([3, 4], { dtype: 'float64' });
    const y2 = w.mul(x2.clone()).sum();
    x2.fill_(0); // the clone was saved, not x2
    y2.backward();
    expect(w.grad!.toArray()).toEqual([3, 4]);
  });
});
