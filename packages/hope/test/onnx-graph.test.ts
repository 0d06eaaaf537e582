/**
 * OnnxGraph's subgraph support (`loop`: an ONNX Loop whose body is built with the same API),
 * run by onnxruntime-node against plain JS loops: a running sum and product carried across
 * iterations, per-iteration scan outputs, a body reading an outer graph input and initializer,
 * a loop nested in a loop body, and a trip count of zero.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { OnnxGraph } from '../src/export/onnx-graph.js';

async function run(bytes: Uint8Array, feeds: Record<string, ort.Tensor>) {
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run(feeds);
  await session.release();
  return out;
}

describe('OnnxGraph.loop run by onnxruntime-node', () => {
  // x [N] float32, n int64 scalar: sum ← sum + x·(i+1) + bias; prod ← prod ⊙ x; scan: sum each step
  function sumProdGraph(): Uint8Array {
    const g = new OnnxGraph();
    const x = g.input('x', 'float32', ['N']);
    const n = g.input('n', 'int64', []);
    const bias = g.float('bias', Float32Array.of(0.5), []);
    const zeros = g.node('Mul', [x, g.float('zero', Float32Array.of(0), [])]);
    const ones = g.node('Add', [zeros, g.float('one', Float32Array.of(1), [])]);
    const res = g.loop(
      n,
      [
        { init: zeros, elem: 'float32', dims: ['N'] },
        { init: ones, elem: 'float32', dims: ['N'] },
      ],
      (b, i, [sum, prod]) => {
        const i1 = b.node('Cast', [b.node('Add', [i, b.int64([1], true)])], { to: 1 }); // float(i + 1)
        const nextSum = b.node('Add', [b.node('Add', [sum!, b.node('Mul', [x, i1])]), bias]);
        const nextProd = b.node('Mul', [prod!, x]);
        return { carried: [nextSum, nextProd], scans: [{ name: nextSum, elem: 'float32' }] };
      },
    );
    g.node('Identity', [res.carried[0]!], {}, 'sum');
    g.node('Identity', [res.carried[1]!], {}, 'prod');
    g.node('Identity', [res.scans[0]!], {}, 'sums');
    g.output('sum', 'float32', ['N']);
    g.output('prod', 'float32', ['N']);
    g.output('sums', 'float32', ['steps', 'N']);
    return g.encode('loop_test', 'test');
  }

  function jsSumProd(x: Float32Array, n: number) {
    const sum = new Float64Array(x.length);
    const prod = new Float64Array(x.length).fill(1);
    const sums: number[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < x.length; j++) {
        sum[j] = sum[j]! + x[j]! * (i + 1) + 0.5;
        prod[j] = prod[j]! * x[j]!;
      }
      sums.push(...sum);
    }
    return { sum, prod, sums };
  }

  it('carries a running sum and product and stacks the scan output, as a JS loop does', async () => {
    const bytes = sumProdGraph();
    const x = Float32Array.of(0.5, -1.25, 2, 0.75);
    for (const n of [5, 1]) {
      const out = await run(bytes, {
        x: new ort.Tensor('float32', x, [4]),
        n: new ort.Tensor('int64', BigInt64Array.of(BigInt(n)), []),
      });
      const want = jsSumProd(x, n);
      expect(out.sums!.dims).toEqual([n, 4]);
      const close = (a: ArrayLike<number>, b: ArrayLike<number>) =>
        Array.from(a).forEach((v, k) => expect(v).toBeCloseTo(b[k]!, 4));
      close(out.sum!.data as Float32Array, want.sum);
      close(out.prod!.data as Float32Array, want.prod);
      close(out.sums!.data as Float32Array, want.sums);
    }
  });

  it('a zero trip count returns the start values and an empty scan', async () => {
    const x = Float32Array.of(3, 4);
    const out = await run(sumProdGraph(), {
      x: new ort.Tensor('float32', x, [2]),
      n: new ort.Tensor('int64', BigInt64Array.of(0n), []),
    });
    expect(Array.from(out.sum!.data as Float32Array)).toEqual([0, 0]);
    expect(Array.from(out.prod!.data as Float32Array)).toEqual([1, 1]);
    expect(out.sums!.dims[0]).toBe(0);
  });

  it('nests a loop in a loop body (Σ_i Σ_j (i·j) with outer-scope names in both bodies)', async () => {
    const g = new OnnxGraph();
    const n = g.input('n', 'int64', []);
    const zero = g.int64([0], true);
    const res = g.loop(n, [{ init: zero, elem: 'int64', dims: [] }], (b, i, [acc]) => {
      const inner = b.loop(n, [{ init: acc!, elem: 'int64', dims: [] }], (c, j, [a]) => ({
        carried: [c.node('Add', [a!, c.node('Mul', [i, j])])],
      }));
      return { carried: [inner.carried[0]!] };
    });
    g.node('Identity', [res.carried[0]!], {}, 'total');
    g.output('total', 'int64', []);
    const n0 = 6;
    const out = await run(g.encode('nested', 'test'), {
      n: new ort.Tensor('int64', BigInt64Array.of(BigInt(n0)), []),
    });
    let want = 0;
    for (let i = 0; i < n0; i++) for (let j = 0; j < n0; j++) want += i * j;
    expect(Number((out.total!.data as BigInt64Array)[0])).toBe(want);
  });

  it('names a body that returns the wrong number of carried values', () => {
    const g = new OnnxGraph();
    const n = g.input('n', 'int64', []);
    expect(() => g.loop(n, [{ init: n, elem: 'int64', dims: [] }], () => ({ carried: [] }))).toThrow(
      /returned 0 carried values, expected 1/,
    );
  });
});
