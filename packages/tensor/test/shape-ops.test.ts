import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { assertClose, gradcheck } from '../src/index.js';
import { rt } from './helpers.js';

describe('layout views share storage', () => {
  it('reshape/view of contiguous tensors are views; of non-contiguous ones copies', () => {
    const x = T.arange(6, undefined, 1, { dtype: 'float32' });
    const r = x.reshape([2, -1]);
    expect(r.shape).toEqual([2, 3]);
    expect(r.storage).toBe(x.storage);
    r.view[4] = 40; // live ParamLike view
    expect(x.dataSync()[4]).toBe(40);
    const t = r.t();
    expect(t.isContiguous).toBe(false);
    expect(t.toArray()).toEqual([
      [0, 3],
      [1, 40],
      [2, 5],
    ]);
    const tr = t.reshape([6]);
    expect(tr.storage).not.toBe(x.storage);
    expect(Array.from(tr.dataSync())).toEqual([0, 3, 1, 40, 2, 5]);
    expect(() => T.view(t, [6])).toThrow(/not contiguous/);
    expect(() => t.view).toThrow(/not contiguous/);
    expect(() => x.reshape([4, -1])).toThrow(/cannot reshape \[6\] \(6 elements\) into \[4, -1\]/);
  });
  it('permute/transpose/expand/squeeze/unsqueeze/flatten forward', () => {
    const x = rt([2, 3, 4], 1);
    const xd = x.dataSync();
    const p = x.permute([2, 0, 1]);
    expect(p.shape).toEqual([4, 2, 3]);
    expect((p.toArray() as number[][][])[3][1][2]).toBe(xd[1 * 12 + 2 * 4 + 3]);
    expect(x.transpose(0, 2).shape).toEqual([4, 3, 2]);
    const e = T.tensor([[1], [2]]).expand([2, 3]);
    expect(e.toArray()).toEqual([
      [1, 1, 1],
      [2, 2, 2],
    ]);
    expect(T.tensor([1, 2]).expand([3, -1]).toArray()).toEqual([
      [1, 2],
      [1, 2],
      [1, 2],
    ]);
    expect(() => T.tensor([1, 2]).expand([3])).toThrow(/cannot expand shape \[2\] to \[3\]/);
    expect(T.zeros([1, 3, 1]).squeeze().shape).toEqual([3]);
    expect(T.zeros([1, 3, 1]).squeeze(0).shape).toEqual([3, 1]);
    expect(T.zeros([3]).unsqueeze(-1).shape).toEqual([3, 1]);
    expect(x.flatten(1).shape).toEqual([2, 12]);
    // squeeze/unsqueeze of a non-contiguous view stay views with the right data
    const tv = x.transpose(0, 2).unsqueeze(1);
    expect(tv.storage).toBe(x.storage);
    assertClose('unsqueeze view', x.transpose(0, 2).contiguous().dataSync(), tv.contiguous());
  });
  it('gradients of every layout op (gradcheck, incl. non-contiguous inputs)', () => {
    gradcheck(
      (t) => t.reshape([3, 4]).mul(T.arange(12, undefined, 1, { dtype: 'float64' }).reshape([3, 4])),
      [rt([2, 6], 2)],
    );
    gradcheck((t) => t.permute([2, 0, 1]).mul(rt([4, 2, 3], 3)), [rt([2, 3, 4], 4)]);
    gradcheck(
      (t) =>
        t
          .transpose(0, 1)
          .reshape([-1])
          .mul(rt([6], 5)),
      [rt([2, 3], 6)],
    );
    gradcheck((t) => t.expand([4, 2, 3]).mul(rt([4, 2, 3], 7)), [rt([2, 1], 8)]);
    gradcheck(
      (t) =>
        t
          .unsqueeze(0)
          .squeeze(0)
          .t()
          .contiguous()
          .mul(rt([3, 2], 9)),
      [rt([2, 3], 10)],
    );
    gradcheck(
      (t) =>
        t
          .clone()
          .flatten()
          .mul(rt([6], 11)),
      [rt([2, 3], 12)],
    );
  });
  it('detach cuts the graph but shares data', () => {
    const x = T.tensor([1, 2], { requiresGrad: true });
    const d = x.mul(2).detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.toArray()).toEqual([2, 4]);
  });
});

describe('slicing, joining, padding', () => {
  it('slice (negative, clamped, stepped) and narrow/select/split/chunk', () => {
    const x = T.arange(10, undefined, 1, { dtype: 'float64' });
    expect(x.slice(0, 2, 8, 3).toArray()).toEqual([2, 5]);
    expect(x.slice(0, -3).toArray()).toEqual([7, 8, 9]);
    expect(x.slice(0, 5, 100).toArray()).toEqual([5, 6, 7, 8, 9]);
    expect(x.slice(0, 8, 2).toArray()).toEqual([]);
    expect(x.narrow(0, 1, 2).toArray()).toEqual([1, 2]);
    expect(() => x.narrow(0, 8, 3)).toThrow(
      /start 8 and length 3 are out of range for dim 0 of shape \[10\]/,
    );
    const m = x.reshape([2, 5]);
    expect(m.select(1, -1).toArray()).toEqual([4, 9]);
    expect(() => m.select(0, 2)).toThrow(/index 2 is out of range for dim 0 of size 2/);
    expect(m.split(2, 1).map((t) => t.shape[1])).toEqual([2, 2, 1]);
    expect(m.split([1, 4], 1)[1].toArray()).toEqual([
      [1, 2, 3, 4],
      [6, 7, 8, 9],
    ]);
    expect(() => m.split([1, 1], 1)).toThrow(/sum to 2/);
    expect(m.chunk(2, 1).map((t) => t.shape[1])).toEqual([3, 2]);
    expect(m.slice(1, 1, 3).storage).toBe(x.storage);
    gradcheck((t) => t.slice(1, 1, 5, 2).mul(rt([3, 2], 1)), [rt([3, 6], 2)]);
    gradcheck((t) => t.select(0, 1).mul(rt([4], 3)), [rt([2, 4], 4)]);
    gradcheck((t) => t.split(2, 1)[1].mul(rt([2, 2], 5)), [rt([2, 5], 6)]);
  });
  it('cat/stack forward and gradients; mismatches name both shapes', () => {
    const a = rt([2, 3], 1);
    const b = rt([2, 1], 2);
    const c = T.cat([a, b], 1);
    expect(c.shape).toEqual([2, 4]);
    assertClose(
      'cat',
      [...a.slice(0, 0, 1).dataSync(), b.dataSync()[0], ...a.slice(0, 1, 2).dataSync(), b.dataSync()[1]],
      c,
    );
    expect(T.cat([T.zeros([0, 3]), T.ones([2, 3])], 0).shape).toEqual([2, 3]);
    expect(() => T.cat([a, rt([3, 1], 3)], 1)).toThrow(/shapes \[2, 3\] and \[3, 1\] differ outside dim 1/);
    expect(() => T.cat([a, rt([2, 1], 3, { dtype: 'float32' })], 1)).toThrow(/dtype mismatch/);
    gradcheck((x, y) => T.cat([x, y.t()], 0).mul(rt([5, 3], 4)), [rt([2, 3], 5), rt([3, 3], 6)]);
    const s = T.stack([a, a.mul(2)], 1);
    expect(s.shape).toEqual([2, 2, 3]);
    assertClose('stack', a.mul(2).dataSync(), s.select(1, 1).contiguous());
    gradcheck((x, y) => T.stack([x, y], -1).mul(rt([2, 3, 2], 7)), [rt([2, 3], 8), rt([2, 3], 9)]);
    expect(() => T.stack([a, b])).toThrow(/shapes \[2, 3\] and \[2, 1\] differ/);
  });
  it('pad (PyTorch order) with value, and its gradient', () => {
    const x = T.tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(T.pad(x, [1, 0]).toArray()).toEqual([
      [0, 1, 2],
      [0, 3, 4],
    ]);
    expect(x.pad([0, 1, 1, 0], -1).toArray()).toEqual([
      [-1, -1, -1],
      [1, 2, -1],
      [3, 4, -1],
    ]);
    expect(() => x.pad([1])).toThrow(/pairs/);
    gradcheck(
      (t) =>
        t
          .t()
          .pad([2, 1, 0, 1])
          .mul(rt([4, 6], 1)),
      [rt([3, 3], 2)],
    );
  });
});

describe('index ops', () => {
  const idx = (v: number[]) => T.tensor(v, { dtype: 'int32' });
  it('indexSelect / indexAdd forward, duplicates and negative indices, gradients', () => {
    const x = T.tensor(
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      { dtype: 'float64' },
    );
    expect(x.indexSelect(0, idx([2, 0, 2])).toArray()).toEqual([
      [5, 6],
      [1, 2],
      [5, 6],
    ]);
    expect(x.indexSelect(1, idx([-1])).toArray()).toEqual([[2], [4], [6]]);
    expect(() => x.indexSelect(0, idx([3]))).toThrow(/index 3 is out of range for dim 0 of size 3/);
    expect(() => x.indexSelect(0, T.tensor([0]))).toThrow(/index must be int32, got float32/);
    expect(
      T.zeros([3, 2], { dtype: 'float64' })
        .indexAdd(0, idx([1, 1]), T.ones([2, 2], { dtype: 'float64' }))
        .toArray(),
    ).toEqual([
      [0, 0],
      [2, 2],
      [0, 0],
    ]);
    gradcheck((t) => t.indexSelect(0, idx([2, 0, 2])).mul(rt([3, 2], 1)), [rt([3, 2], 2)]);
    gradcheck((t) => t.t().indexSelect(1, idx([1, 1])), [rt([2, 3], 3)]);
    gradcheck((t, s) => t.indexAdd(1, idx([0, 2, 0]), s), [rt([2, 4], 4), rt([2, 3], 5)]);
  });
  it('gather / scatterAdd forward vs loops, gradients, errors', () => {
    const x = rt([3, 4], 6);
    const index = idx([0, 3, 3, 1, 2, 0]).reshape([3, 2]);
    const g = x.gather(1, index);
    const xd = x.toArray() as number[][];
    const id = index.toArray() as number[][];
    expect(g.toArray()).toEqual(id.map((row, i) => row.map((j) => xd[i][j])));
    gradcheck((t) => t.gather(1, index).mul(rt([3, 2], 7)), [x]);
    const src = rt([3, 2], 8);
    const s = T.scatterAdd(T.zeros([3, 4], { dtype: 'float64' }), 1, index, src);
    const ref = [0, 1, 2].map(() => [0, 0, 0, 0]);
    const sd = src.toArray() as number[][];
    id.forEach((row, i) => row.forEach((j, k) => (ref[i][j] += sd[i][k])));
    assertClose('scatterAdd', ref.flat(), s);
    gradcheck((t, u) => T.scatterAdd(t, 1, index, u).mul(rt([3, 4], 9)), [rt([3, 4], 10), rt([3, 2], 11)]);
    gradcheck((t, u) => T.scatterAdd(t, 0, idx([2, 0]).reshape([1, 2]), u), [rt([3, 2], 12), rt([2, 3], 13)]);
    expect(() => x.gather(1, idx([4]).reshape([1, 1]))).toThrow(
      /index 4 is out of range for dim 1 of size 4/,
    );
    expect(() => x.gather(1, idx([0]))).toThrow(/must have as many dims/);
  });
});

describe('tril / triu / cumsum / cumprod', () => {
  it('forward vs loops and gradients', () => {
    const x = rt([2, 3, 4], 1);
    const xd = x.toArray() as number[][][];
    for (const k of [-1, 0, 2]) {
      assertClose(
        `tril ${k}`,
        xd.flatMap((m) => m.flatMap((r, i) => r.map((v, j) => (j - i <= k ? v : 0)))),
        x.tril(k),
      );
      assertClose(
        `triu ${k}`,
        xd.flatMap((m) => m.flatMap((r, i) => r.map((v, j) => (j - i >= k ? v : 0)))),
        x.triu(k),
      );
    }
    gradcheck((t) => t.tril(-1).mul(rt([3, 3], 2)), [rt([3, 3], 3)]);
    gradcheck((t) => t.t().triu(1), [rt([4, 3], 4)]);
    expect(() => T.zeros([3]).tril()).toThrow(/needs at least 2 dims/);
    const c = T.tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { dtype: 'float64' },
    );
    expect(c.cumsum(1).toArray()).toEqual([
      [1, 3, 6],
      [4, 9, 15],
    ]);
    expect(c.cumsum(0).toArray()).toEqual([
      [1, 2, 3],
      [5, 7, 9],
    ]);
    expect(c.cumprod(1).toArray()).toEqual([
      [1, 2, 6],
      [4, 20, 120],
    ]);
    gradcheck((t) => t.cumsum(0), [rt([3, 2], 5)]);
    gradcheck((t) => t.t().cumsum(1), [rt([3, 4], 6)]);
    gradcheck((t) => t.cumprod(1), [rt([2, 4], 7)]);
    gradcheck(
      (t) => t.cumprod(0),
      [
        T.tensor(
          [
            [0, 1],
            [2, 0],
            [3, 4],
          ],
          { dtype: 'float64' },
        ),
      ],
    );
  });
});
