// io.save / io.load on Tensors: round trips per dtype (files and bytes), non-contiguous
// tensors, module checkpoints, dtype widening from PyTorch-written files, and errors.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { io, manualSeed, nn, tensor } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'nl-io-tensors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('io.save / io.load', () => {
  it('round-trips float32, float64, int32, scalars and empty tensors through a file', () => {
    const tensors = {
      a: tensor(
        [
          [1.5, -2],
          [3, 4],
        ],
        { dtype: 'float32' },
      ),
      b: tensor([Math.PI, 1e-300], { dtype: 'float64' }),
      c: tensor([7, -8, 2147483647], { dtype: 'int32' }),
      s: tensor(3.25, { dtype: 'float64' }),
      e: tensor([], { shape: [0, 4], dtype: 'float32' }),
    };
    const path = join(dir, 'rt.safetensors');
    io.save(path, tensors, { note: 'hi' });
    const { tensors: back, metadata } = io.loadWithMetadata(path);
    expect(metadata).toEqual({ note: 'hi' });
    for (const [name, t] of Object.entries(tensors)) {
      expect(back[name].dtype, name).toBe(t.dtype);
      expect(back[name].shape, name).toEqual(t.shape);
      expect(back[name].dataSync(), name).toEqual(t.dataSync());
    }
  });

  it('returns bytes without a path, and saves non-contiguous views in logical order', () => {
    const m = tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { dtype: 'float64' },
    );
    const bytes = io.save(null, { t: m.transpose(0, 1) });
    const back = io.load(bytes);
    expect(back.t.shape).toEqual([3, 2]);
    expect(back.t.toArray()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
  });

  it('a module checkpoint restores the same outputs', () => {
    manualSeed(3);
    const a = new nn.MLP(4, 6, { dtype: 'float64' });
    const path = join(dir, 'mlp.safetensors');
    io.save(path, a.stateDict());
    manualSeed(4);
    const b = new nn.MLP(4, 6, { dtype: 'float64' });
    b.loadStateDict(io.load(path));
    const x = tensor([[0.1, 0.2, -0.3, 0.4]], { dtype: 'float64' });
    expect(b.forward(x).dataSync()).toEqual(a.forward(x).dataSync());
  });

  it('widens PyTorch half, bfloat16 and integer tensors (fixtures/dtypes.safetensors)', () => {
    const fx = join(import.meta.dirname, 'fixtures');
    const t = io.load(join(fx, 'dtypes.safetensors'));
    const expected = JSON.parse(readFileSync(join(fx, 'dtypes.json'), 'utf8')) as Record<
      string,
      { values: number[] }
    >;
    const want = {
      f16: 'float32',
      bf16: 'float32',
      i64: 'int32',
      u8: 'int32',
      bool: 'int32',
      f64: 'float64',
    };
    for (const [name, dtype] of Object.entries(want)) {
      expect(t[name].dtype, name).toBe(dtype);
      expect(Array.from(t[name].dataSync()), name).toEqual(expected[name].values);
    }
  });

  it('names problems: int64 out of int32 range, non-tensors, corrupt input, missing file', () => {
    const big = io.encodeSafetensors({
      big: { dtype: 'I64', shape: [2], data: new BigInt64Array([1n, 2n ** 40n]) },
    });
    expect(() => io.load(big)).toThrow(/'big' \(I64\) holds 1099511627776 at element 1, outside int32/);
    expect(() => io.save(null, { x: [1, 2] as never })).toThrow(/'x' is not a Tensor/);
    expect(() => io.load(new Uint8Array([1, 0, 0]))).toThrow(/truncated/);
    expect(() => io.load(join(dir, 'missing.safetensors'))).toThrow(/cannot read .*missing\.safetensors/);
    const disposed = tensor([1]);
    disposed.dispose();
    expect(() => io.save(null, { d: disposed })).toThrow(/dispose/);
  });
});

describe('io async', () => {
  it('saveAsync / loadAsync round-trip and keep the old file on failure', async () => {
    const path = join(dir, 'async.safetensors');
    await io.saveAsync(path, { w: tensor([1, 2, 3], { dtype: 'float64' }) }, { k: 'v' });
    const { tensors, metadata } = await io.loadWithMetadataAsync(path);
    expect(metadata).toEqual({ k: 'v' });
    expect(Array.from(tensors.w.dataSync())).toEqual([1, 2, 3]);
    const before = readFileSync(path);
    await expect(io.saveAsync(path, { w: 'nope' as never })).rejects.toThrow(/'w' is not a Tensor/);
    await expect(io.saveAsync(join(dir, 'no-dir', 'x.safetensors'), {})).rejects.toThrow(/cannot save/);
    expect(readFileSync(path)).toEqual(before);
    expect((await io.loadAsync(path)).w.shape).toEqual([3]);
    await expect(io.loadAsync(join(dir, 'missing.safetensors'))).rejects.toThrow(/cannot read/);
  });
});
