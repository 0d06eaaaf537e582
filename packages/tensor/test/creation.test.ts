import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';

describe('creation', () => {
  it('tensor from nested arrays, typed arrays, shape option, dtypes', () => {
    const t = T.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(T.tensor(5).shape).toEqual([]);
    expect(T.tensor(5).item()).toBe(5);
    expect(T.tensor(new Int32Array([1, 2])).dtype).toBe('int32');
    expect(T.tensor([1, 2, 3, 4], { shape: [2, 2], dtype: 'float64' }).toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(() => T.tensor([[1, 2], [3]])).toThrow(/ragged nested array at \[1\]/);
    expect(T.tensor([new Float32Array([1, 2]), new Float32Array([3, 4])]).toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(() => T.tensor([new Float32Array([1, 2]), new Float32Array([3])])).toThrow(
      /ragged nested array at \[1\]/,
    );
    expect(() => T.tensor([1, 2, 3], { shape: [2, 2] })).toThrow(/3 values do not fill shape \[2, 2\]/);
    expect(() => T.tensor([1], { dtype: 'int64' as never })).toThrow(/unsupported dtype "int64"/);
  });
  it('fromTypedArray is zero-copy', () => {
    const arr = new Float32Array([1, 2, 3, 4]);
    const t = T.fromTypedArray(arr, [2, 2]);
    arr[0] = 9;
    expect(t.toArray()).toEqual([
      [9, 2],
      [3, 4],
    ]);
    t.view[3] = 7;
    expect(arr[3]).toBe(7);
    expect(() => T.fromTypedArray(arr, [3])).toThrow(/4 elements do not fill shape \[3\]/);
    expect(() => T.fromTypedArray(new Uint8Array(2) as never)).toThrow(
      /expected a Float32Array, Float64Array or Int32Array, got Uint8Array/,
    );
  });
  it('zeros/ones/full/arange/linspace/eye/*Like', () => {
    expect(T.zeros([2]).toArray()).toEqual([0, 0]);
    expect(T.ones([1, 2], { dtype: 'int32' }).toArray()).toEqual([[1, 1]]);
    expect(T.full([2], 3.5).toArray()).toEqual([3.5, 3.5]);
    expect(T.arange(4).toArray()).toEqual([0, 1, 2, 3]);
    expect(T.arange(4).dtype).toBe('int32');
    expect(T.arange(1, 2, 0.25).toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(T.arange(5, 1, -2).toArray()).toEqual([5, 3]);
    expect(() => T.arange(0, 1, 0)).toThrow(/step must be a non-zero/);
    expect(T.linspace(0, 1, 3).toArray()).toEqual([0, 0.5, 1]);
    expect(T.eye(2, 3).toArray()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ]);
    expect(T.zerosLike(T.ones([2], { dtype: 'float64' })).dtype).toBe('float64');
    expect(() => T.zeros([2, -1])).toThrow(/non-negative integers/);
  });
  it('random: same seed same numbers; stats of rand/randn/randint; independent generators', () => {
    T.manualSeed(42);
    const a = Array.from(T.randn([1000], { dtype: 'float64' }).dataSync());
    T.manualSeed(42);
    const b = T.randn([1000], { dtype: 'float64' }).dataSync();
    expect(a).toEqual(Array.from(b));
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const v = a.reduce((s, x) => s + (x - mean) ** 2, 0) / a.length;
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(Math.abs(v - 1)).toBeLessThan(0.15);
    const u = T.rand([1000]).dataSync();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    const r = T.randint(-2, 3, [1000]).dataSync();
    expect(new Set(r)).toEqual(new Set([-2, -1, 0, 1, 2]));
    const g1 = new T.Generator(7);
    const g2 = new T.Generator(7);
    expect(T.rand([5], { generator: g1 }).toArray()).toEqual(T.rand([5], { generator: g2 }).toArray());
    expect(T.rand([5], { generator: new T.Generator(8) }).toArray()).not.toEqual(
      T.rand([5], { generator: new T.Generator(7) }).toArray(),
    );
    expect(() => T.randint(3, 3, [1])).toThrow(/low < high/);
  });
  it('devices: cpu works; cuda gives a clear error', () => {
    expect(T.zeros([1], { device: 'cpu' }).device).toBe('cpu');
    expect(() => T.zeros([1], { device: 'cuda' })).toThrow(/CUDA backend not available: /);
    expect(() => T.zeros([1], { device: 'tpu' as never })).toThrow(/unknown device "tpu"/);
    expect(() => T.zeros([1]).to('cuda:1')).toThrow(/CUDA backend not available/);
  });
  it('ParamLike: view/gradView, errors for int and non-contiguous', () => {
    const p = T.zeros([2, 2], { requiresGrad: true });
    const pl: T.ParamLike = p;
    expect(pl.view).toBeInstanceOf(Float32Array);
    expect(pl.gradView).toBeNull();
    p.sum().backward();
    expect(Array.from(pl.gradView!)).toEqual([1, 1, 1, 1]);
    expect(() => T.ones([2], { dtype: 'int32' }).view).toThrow(/ParamLike views are float32\/float64/);
    expect(Array.from(T.ones([2], { dtype: 'int32' }).rawView())).toEqual([1, 1]);
  });
  it('data()/toArray()/item()', async () => {
    const t = T.tensor([[1, 2]]);
    expect(Array.from(await t.data())).toEqual([1, 2]);
    expect(() => t.item()).toThrow(/tensor has 2 elements \(shape \[1, 2\]\); item\(\) needs exactly 1/);
  });
});
