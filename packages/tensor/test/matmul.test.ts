import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { assertClose, gradcheck } from '../src/index.js';
import { rt, bShape, numel, unravel, bIndex } from './helpers.js';

/** float64 reference batched matmul with broadcasting (rank >= 2). */
function refMatmul(a: T.Tensor, b: T.Tensor): { shape: number[]; data: Float64Array } {
  const [m, k] = a.shape.slice(-2);
  const n = b.shape[b.ndim - 1];
  const batch = bShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const ad = a.dataSync();
  const bd = b.dataSync();
  const out = new Float64Array(numel(batch) * m * n);
  for (let t = 0; t < numel(batch); t++) {
    const idx = unravel(t, batch);
    const ab = bIndex(idx, a.shape.slice(0, -2));
    const bb = bIndex(idx, b.shape.slice(0, -2));
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += ad[ab * m * k + i * k + p] * bd[bb * k * n + p * n + j];
        out[t * m * n + i * n + j] = s;
      }
  }
  return { shape: [...batch, m, n], data: out };
}

const cases: [number[], number[]][] = [
  [
    [3, 4],
    [4, 5],
  ],
  [
    [1, 4],
    [4, 1],
  ],
  [
    [2, 3, 4],
    [4, 2],
  ],
  [
    [3, 4],
    [2, 4, 5],
  ],
  [
    [2, 1, 3, 4],
    [3, 4, 2],
  ],
  [
    [0, 4],
    [4, 3],
  ],
  [
    [3, 0],
    [0, 2],
  ],
  [
    [2, 3, 4],
    [2, 4, 5],
  ],
];

describe('matmul', () => {
  for (const [sa, sb] of cases) {
    for (const dtype of ['float64', 'float32'] as const) {
      it(`${dtype} ${JSON.stringify(sa)} @ ${JSON.stringify(sb)}`, () => {
        const a = rt(sa, 1, { dtype });
        const b = rt(sb, 2, { dtype });
        const ref = refMatmul(a, b);
        const got = a.matmul(b);
        expect(got.shape).toEqual(ref.shape);
        expect(got.dtype).toBe(dtype);
        assertClose(
          'matmul',
          ref.data,
          got,
          dtype === 'float32' ? { rtol: 1e-5, atol: 1e-5 } : { rtol: 1e-12, atol: 1e-13 },
        );
        if (dtype === 'float64') gradcheck((x, y) => x.matmul(y), [a, b]);
      });
    }
  }
  it('transposed and permuted views (passed as gemm flags) match contiguous copies', () => {
    const a = rt([5, 3], 3).t(); // [3, 5] column-major
    const b = rt([4, 5], 4).t(); // [5, 4]
    assertClose('tA tB', refMatmul(a, b).data, a.matmul(b), { rtol: 1e-12 });
    const ab = rt([2, 5, 3], 5).transpose(1, 2); // [2, 3, 5]
    const bb = rt([2, 5, 4], 6);
    assertClose('batched tA', refMatmul(ab, bb).data, ab.matmul(bb), { rtol: 1e-12 });
    // strided batch that is neither row- nor column-major in the matrix dims (forces a copy)
    const odd = rt([3, 4, 6], 7).slice(2, 0, 6, 2); // [3, 4, 3], inner stride 2
    const w = rt([3, 2], 8);
    assertClose('strided', refMatmul(odd, w).data, odd.matmul(w), { rtol: 1e-12 });
    gradcheck((x, y) => x.transpose(1, 2).matmul(y), [rt([2, 5, 3], 9), rt([2, 5, 4], 10)]);
    gradcheck((x, y) => x.slice(2, 0, 6, 2).matmul(y), [rt([3, 4, 6], 11), rt([3, 2], 12)]);
    // broadcast batch via expand (stride 0 batch)
    const e = rt([1, 3, 4], 13).expand([5, 3, 4]);
    assertClose('expanded batch', refMatmul(e, rt([5, 4, 2], 14)).data, e.matmul(rt([5, 4, 2], 14)), {
      rtol: 1e-12,
    });
  });
  it('a [..., m, k] @ a shared 2-D b (one GEMM over all rows; gradients without the batch sum)', () => {
    const w = rt([4, 3], 20);
    const cases4: [string, T.Tensor, T.Tensor][] = [
      ['4-D a', rt([2, 3, 5, 4], 21), w],
      ['rows with a stride > k', rt([2, 5, 7], 22).narrow(2, 1, 4), w],
      ['transposed b', rt([3, 2, 4], 23), rt([3, 4], 24).t()],
      ['batches not stacked (permuted)', rt([5, 2, 4], 25).permute([1, 0, 2]), w],
    ];
    for (const [name, a, b] of cases4) {
      assertClose(name, refMatmul(a, b).data, a.matmul(b), { rtol: 1e-12, atol: 1e-13 });
      gradcheck((x, y) => x.matmul(y), [a.contiguous(), b.contiguous()]);
    }
    gradcheck((x, y) => x.narrow(2, 1, 4).matmul(y.t()), [rt([2, 5, 7], 26), rt([3, 4], 27)]);
    const f32 = rt([2, 6, 4], 28, { dtype: 'float32' });
    assertClose(
      'float32',
      refMatmul(f32, rt([4, 3], 29, { dtype: 'float32' })).data,
      f32.matmul(rt([4, 3], 29, { dtype: 'float32' })),
      { rtol: 1e-5, atol: 1e-5 },
    );
  });

  it('1-D operands: vector-matrix, matrix-vector, dot', () => {
    const v = T.tensor([1, 2, 3], { dtype: 'float64' });
    const m = T.tensor(
      [
        [1, 0],
        [0, 1],
        [1, 1],
      ],
      { dtype: 'float64' },
    );
    expect(v.matmul(m).toArray()).toEqual([4, 5]);
    expect(m.t().matmul(v).toArray()).toEqual([4, 5]);
    expect(v.matmul(v).shape).toEqual([]);
    expect(v.matmul(v).item()).toBe(14);
    gradcheck((x, y) => x.matmul(y), [rt([3], 1), rt([2, 3, 4], 2)]);
    gradcheck((x, y) => x.matmul(y), [rt([3], 3), rt([3], 4)]);
  });
  it('errors: misaligned shapes name both, dtype mismatch, int operands', () => {
    expect(() => rt([2, 3], 1).matmul(rt([4, 2], 2))).toThrow(/shapes \[2, 3\] and \[4, 2\] are not aligned/);
    expect(() => rt([2, 3], 1).matmul(rt([3, 2], 2, { dtype: 'float32' }))).toThrow(
      /dtype mismatch, float64 and float32/,
    );
    expect(() => T.ones([2, 2], { dtype: 'int32' }).matmul(T.ones([2, 2], { dtype: 'int32' }))).toThrow(
      /float32\/float64 operands required/,
    );
    expect(() => rt([2, 3, 4], 1).matmul(rt([3, 4, 2], 2))).toThrow(/cannot be broadcast/);
  });
});
