import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { gemm } from '@nl/native';
import { gemmShapeModel, type GemmShape } from '../src/suites/gemm-shapes.js';

/** float64 reference of op(A)·op(B) for contiguous [batch, ...] operands. */
function reference(s: GemmShape, a: Float32Array, b: Float32Array): Float64Array {
  const out = new Float64Array(s.batch * s.m * s.n);
  for (let bi = 0; bi < s.batch; bi++)
    for (let i = 0; i < s.m; i++)
      for (let j = 0; j < s.n; j++) {
        let acc = 0;
        for (let p = 0; p < s.k; p++) {
          const av = a[bi * s.m * s.k + (s.transA ? p * s.m + i : i * s.k + p)];
          const bv = b[bi * s.k * s.n + (s.transB ? j * s.k + p : p * s.n + j)];
          acc += av * bv;
        }
        out[(bi * s.m + i) * s.n + j] = acc;
      }
  return out;
}

describe('gemm-shapes bench plumbing', () => {
  for (const [transA, transB, batch] of [
    [false, false, 1],
    [true, false, 1],
    [false, true, 3],
    [true, true, 2],
  ] as const) {
    it(`the ORT model and @nl/native agree with a float64 loop (tA=${transA} tB=${transB} batch=${batch})`, async () => {
      const s: GemmShape = { label: 't', batch, m: 5, n: 7, k: 3, transA, transB };
      const a = Float32Array.from({ length: batch * s.m * s.k }, (_, i) => Math.sin(i + 1));
      const b = Float32Array.from({ length: batch * s.k * s.n }, (_, i) => Math.cos(i));
      const want = reference(s, a, b);
      const lead = batch > 1 ? [batch] : [];
      const session = await ort.InferenceSession.create(gemmShapeModel(s));
      const y = (
        await session.run({
          A: new ort.Tensor('float32', a, [...lead, ...(transA ? [s.k, s.m] : [s.m, s.k])]),
          B: new ort.Tensor('float32', b, [...lead, ...(transB ? [s.n, s.k] : [s.k, s.n])]),
        })
      ).Y.data as Float32Array;
      await session.release();
      const c = new Float32Array(want.length);
      gemm(a, b, c, s.m, s.n, s.k, { transA, transB, batch });
      expect(y.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) {
        expect(y[i]).toBeCloseTo(want[i], 5);
        expect(c[i]).toBeCloseTo(want[i], 5);
      }
    });
  }
});
