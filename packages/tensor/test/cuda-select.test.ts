// The selecting ops on 'cuda' (the emulated device without a GPU) against the CPU: indexSelect,
// indexAdd, gather, scatterAdd (+ its src gradient, scatterSpread), topk, multinomial, with rows
// spread over many blocks, repeated indices that accumulate, strided sources, float32 and float64,
// gradients; bad indices throw the CPU's RangeError (checked on the device first).
import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { assertClose, enableCudaEmulation } from '../src/testing-entry.js';

enableCudaEmulation();

let seed = 7;
const rnd = (n: number) =>
  Array.from({ length: n }, () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648 - 0.5;
  });
const ints = (n: number, hi: number) => rnd(n).map((v) => Math.floor((v + 0.5) * hi));

/** Runs `f` on cpu and cuda with the same inputs; compares outputs and input gradients. */
function same(
  name: string,
  inputs: { data: number[]; shape: number[]; dtype: T.DType; grad?: boolean }[],
  f: (xs: Tensor[]) => Tensor,
  tol = { rtol: 1e-6, atol: 1e-7 },
) {
  const run = (device: T.Device) => {
    const xs = inputs.map((i) =>
      T.tensor(i.data, { shape: i.shape, dtype: i.dtype, device, requiresGrad: i.grad ?? false }),
    );
    const y = f(xs);
    if (y.requiresGrad)
      y.mul(T.arange(y.numel, undefined, 1, { dtype: y.dtype, device }).reshape(y.shape).mul(0.01).add(1))
        .sum()
        .backward();
    const out = {
      y: Array.from(y.dataSync()),
      grads: xs.map((x) => (x.grad ? Array.from(x.grad.dataSync()) : null)),
    };
    expect(y.device).toBe(device);
    return out;
  };
  const cpu = run('cpu');
  const gpu = run('cuda');
  assertClose(`${name} out`, gpu.y, cpu.y, tol);
  cpu.grads.forEach((g, i) => g && assertClose(`${name} grad ${i}`, gpu.grads[i]!, g, tol));
}

describe.each(['float32', 'float64'] as const)('select ops on cuda (%s) equal the CPU', (dtype) => {
  const tol = dtype === 'float32' ? { rtol: 1e-5, atol: 1e-6 } : { rtol: 1e-12, atol: 1e-13 };
  it('indexSelect / indexAdd with repeated indices, many rows', () => {
    same(
      'indexSelect',
      [
        { data: rnd(3000 * 5), shape: [3000, 5], dtype, grad: true },
        { data: ints(4100, 3000), shape: [4100], dtype: 'int32' },
      ],
      ([x, i]) => T.indexSelect(x!, 0, i!),
      tol,
    );
    same(
      'indexAdd',
      [
        { data: rnd(40 * 7), shape: [40, 7], dtype, grad: true },
        { data: [3, 3, 3, 0, 6, 3], shape: [6], dtype: 'int32' },
        { data: rnd(40 * 6), shape: [40, 6], dtype, grad: true },
      ],
      ([x, i, s]) => T.indexAdd(x!, 1, i!, s!),
      tol,
    );
  });
  it('gather / scatterAdd on a transposed source, src larger than index', () => {
    same(
      'gather',
      [
        { data: rnd(9 * 300), shape: [9, 300], dtype, grad: true },
        { data: ints(300 * 4, 9), shape: [300, 4], dtype: 'int32' },
      ],
      ([x, i]) => T.gather(x!.t(), 1, i!),
      tol,
    );
    same(
      'scatterAdd',
      [
        { data: rnd(6 * 50), shape: [6, 50], dtype, grad: true },
        { data: ints(6 * 30, 50), shape: [6, 30], dtype: 'int32' },
        { data: rnd(6 * 40), shape: [6, 40], dtype, grad: true },
      ],
      ([x, i, s]) => T.scatterAdd(x!, 1, i!, s!),
      tol,
    );
  });
  it('topk along both dims, largest and smallest, with ties', () => {
    const data = rnd(37 * 300).map((v, j) => (j % 5 === 0 ? 0.125 : v));
    for (const [d, k, largest] of [
      [1, 7, true],
      [0, 3, false],
      [1, 1, false],
    ] as const) {
      same(
        `topk d${d} k${k}`,
        [{ data, shape: [37, 300], dtype }],
        ([x]) => T.topk(x!, k, d, { largest }).indices,
        tol,
      );
      same(
        `topk values d${d}`,
        [{ data, shape: [37, 300], dtype, grad: true }],
        ([x]) => T.topk(x!, k, d, { largest }).values,
        tol,
      );
    }
  });
  it('multinomial draws the CPU samples from the same generator', () => {
    const w = rnd(64 * 33).map((v) => Math.abs(v));
    same(
      'multinomial',
      [{ data: w, shape: [64, 33], dtype }],
      ([x]) => T.multinomial(x!, 5, { generator: new T.Generator(3) }),
      tol,
    );
  });
});

describe('bad indices throw the CPU error on cuda too', () => {
  it('indexSelect / gather / scatterAdd / multinomial', () => {
    const x = T.randn([4, 3], { device: 'cuda' });
    const bad = T.tensor([0, 9], { dtype: 'int32', device: 'cuda' });
    expect(() => T.indexSelect(x, 0, bad)).toThrow(
      /indexSelect: index 9 is out of range for dim 0 of size 4/,
    );
    expect(() => T.gather(x, 1, T.tensor([[5]], { dtype: 'int32', device: 'cuda' }))).toThrow(
      /gather: index 5 is out of range/,
    );
    expect(() =>
      T.scatterAdd(x, 0, T.tensor([[-9, 0, 0]], { dtype: 'int32', device: 'cuda' }), x.narrow(0, 0, 1)),
    ).toThrow(/scatterAdd: index -9/);
    expect(() => T.multinomial(T.tensor([[1, -1]], { device: 'cuda' }), 1)).toThrow(
      /weights must be finite and non-negative/,
    );
    expect(() => T.multinomial(T.tensor([[0, 0]], { device: 'cuda' }), 1)).toThrow(/sums to 0/);
  });
});

describe('select edge cases on cuda', () => {
  it('more elements than one grid (4096 blocks x 256 threads), negative indices', () => {
    const idx = ints(1100, 1000).map((v, j) => (j % 3 === 0 ? v - 1000 : v));
    same(
      'indexSelect big',
      [
        { data: rnd(1000 * 1000), shape: [1000, 1000], dtype: 'float32', grad: true },
        { data: idx, shape: [1100], dtype: 'int32' },
      ],
      ([x, i]) => T.indexSelect(x!, 0, i!),
      { rtol: 1e-5, atol: 1e-6 },
    );
  });
  it('int32 sources, NaN in topk, 0-d operands', () => {
    same(
      'gather int32',
      [
        { data: ints(12, 100), shape: [3, 4], dtype: 'int32' },
        { data: [0, 3, -1, 2, 1, 1], shape: [3, 2], dtype: 'int32' },
      ],
      ([x, i]) => T.gather(x!, 1, i!),
    );
    same(
      'topk int32',
      [{ data: [3, 1, 3, 2, 1, 3], shape: [6], dtype: 'int32' }],
      ([x]) => T.topk(x!, 4).indices,
    );
    for (const largest of [true, false])
      same(
        `topk NaN ${largest}`,
        // one NaN: with two, the CPU comparator says each NaN sorts first (order left to V8's sort)
        [{ data: [0.5, 3, 0.5, -1, NaN, 2], shape: [6], dtype: 'float64' }],
        ([x]) => T.topk(x!, 6, 0, { largest }).indices,
      );
    same(
      'indexSelect 0-d',
      [
        { data: [2.5], shape: [], dtype: 'float64', grad: true },
        { data: [-1], shape: [1], dtype: 'int32' },
      ],
      ([x, i]) => T.indexSelect(x!, 0, i!),
    );
  });
  it('a bad multinomial row leaves the generator where the CPU leaves it', () => {
    const w = [1, 2, 3, 4, 0, 0, 5, 6];
    const states = (['cpu', 'cuda'] as const).map((device) => {
      const g = new T.Generator(11);
      const x = T.tensor(w, { shape: [4, 2], device });
      expect(() => T.multinomial(x, 3, { generator: g })).toThrow(/row 2 of the weights sums to 0/);
      return g.random();
    });
    expect(states[1]).toBe(states[0]);
  });
  it('bad native calls throw instead of reading out of bounds', async () => {
    const { native } = await import('@nl/native');
    const { cudaPointer } = await import('../src/internal.js');
    const x = T.zeros([4, 3], { device: 'cuda' });
    const i = T.tensor([[0, 1, 2, 3, 4]], { dtype: 'int32', device: 'cuda' });
    const p = (t: Tensor) => cudaPointer(t.storage.buffer);
    // index wider than x in a non-indexed dim
    expect(() => native.cudaGather(p(x), 0, p(x), 0, [4, 3], [3, 1], 0, p(i), 0, [1, 5], [5, 1])).toThrow(
      /larger than the operand/,
    );
    // x's extent past its buffer
    expect(() => native.cudaIndexSelect(p(x), 0, p(x), 0, [4, 30], [30, 1], 0, p(i), 0, 1, 1)).toThrow(
      /reaches element/,
    );
    expect(native.cudaCheckIndices(p(i), 0, [1, 5], [5, 1], 0, 4)).toEqual([4, 4]);
    expect(native.cudaCheckIndices(p(i), 0, [1, 5], [5, 1], 0, 5)).toEqual([-1, 0]);
  });
});

describe('topk with several NaNs in a row', () => {
  it('NaNs first, in index order, on the CPU and on cuda alike', () => {
    const data = [0.5, NaN, 2, NaN, -1, NaN, 3];
    for (const largest of [true, false]) {
      const want = [1, 3, 5];
      for (const device of ['cpu', 'cuda'] as const) {
        const x = T.tensor(data, { device });
        expect(Array.from(T.topk(x, 4, 0, { largest }).indices.dataSync()).slice(0, 3)).toEqual(want);
      }
    }
  });
});
