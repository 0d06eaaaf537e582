// The nn-family CUDA kernels (rmsNorm, layerNorm, embedding, dropout, causalConv1d,
// crossEntropy) diffed against the CPU, outputs and the gradient of every input, on 'cuda' (a
// real GPU when one serves it, else the host emulator): rows spanning many blocks and more rows
// than one launch, d not a power of two and larger than a block, non-contiguous and offset
// (narrowed) inputs, optional weights / biases absent, float32 and float64.
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import type { DType, Tensor } from '../src/index.js';
import { assertClose, enableCudaEmulation } from '../src/testing-entry.js';

beforeAll(() => {
  enableCudaEmulation();
});

let seed = 11;
function rnd(n: number, lo = -1, hi = 1): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    out.push(lo + ((hi - lo) * seed) / 2147483648);
  }
  return out;
}

interface Input {
  data: number[];
  shape: number[];
  dtype?: DType;
  grad?: boolean;
}
const tol = (dt: DType) => (dt === 'float64' ? { rtol: 1e-9, atol: 1e-11 } : { rtol: 2e-4, atol: 2e-5 });

/** Runs `fn` on cpu and cuda; outputs and the gradients of sum(out_i * w_i) must agree. */
function check(name: string, inputs: Input[], fn: (xs: Tensor[]) => Tensor | Tensor[], exact = false): void {
  const run = (device: 'cpu' | 'cuda') => {
    const xs = inputs.map((i) =>
      T.tensor(i.data, {
        shape: i.shape,
        dtype: i.dtype ?? 'float64',
        device,
        requiresGrad: i.grad ?? false,
      }),
    );
    const res = fn(xs);
    const outs = Array.isArray(res) ? res : [res];
    const diff = outs.filter((o) => o.requiresGrad);
    if (diff.length > 0) {
      let loss: Tensor | null = null;
      diff.forEach((o, k) => {
        const w = T.tensor(rnd(o.numel, 0.5, 1.5 + k), { shape: o.shape, dtype: o.dtype, device });
        const term = o.mul(w).sum();
        loss = loss === null ? term : loss.add(term);
      });
      loss!.backward();
    }
    const values = outs.map((o) => ({ dtype: o.dtype, shape: o.shape, data: Array.from(o.dataSync()) }));
    const grads = xs.map((x) => (x.grad === null ? null : Array.from(x.grad.dataSync())));
    const devices = outs.map((o) => o.device);
    for (const t of [...xs, ...outs]) t.dispose();
    return { values, grads, devices };
  };
  const s = seed;
  const ref = run('cpu');
  seed = s; // the same loss weights
  const got = run('cuda');
  expect(got.devices).toEqual(got.devices.map(() => 'cuda'));
  ref.values.forEach((v, i) => {
    expect(got.values[i].dtype, `${name} out ${i} dtype`).toBe(v.dtype);
    expect(got.values[i].shape, `${name} out ${i} shape`).toEqual(v.shape);
    if (exact) expect(got.values[i].data, `${name} out ${i}`).toEqual(v.data);
    else assertClose(`${name} out ${i}`, v.data, got.values[i].data, tol(v.dtype));
  });
  ref.grads.forEach((g, i) => {
    if (g === null) expect(got.grads[i], `${name} grad ${i}`).toBeNull();
    else if (exact) expect(got.grads[i], `${name} grad ${i}`).toEqual(g);
    else assertClose(`${name} grad ${i}`, g, got.grads[i]!, tol(inputs[i].dtype ?? 'float64'));
  });
}

const f = (shape: number[], dtype: DType = 'float64', grad = true, lo = -1, hi = 1): Input => ({
  data: rnd(
    shape.reduce((a, b) => a * b, 1),
    lo,
    hi,
  ),
  shape,
  dtype,
  grad,
});
const ints = (data: number[], shape = [data.length]): Input => ({ data, shape, dtype: 'int32', grad: false });
const randInts = (n: number, hi: number): number[] => rnd(n, 0, hi).map(Math.floor);

describe.each(['float32', 'float64'] as DType[])('cuda nn (%s) equals the CPU', (dt) => {
  it('rmsNorm: d above the block size and not a power of two, small d, no weight, views', () => {
    check('rms d=300', [f([3, 5, 300], dt), f([300], dt)], ([x, w]) => T.rmsNorm(x, w, 1e-5));
    check('rms d=7', [f([40, 7], dt), f([7], dt)], ([x, w]) => T.rmsNorm(x, w));
    check('rms no weight', [f([9, 257], dt)], ([x]) => T.rmsNorm(x));
    check('rms transposed', [f([33, 6], dt), f([33], dt)], ([x, w]) => T.rmsNorm(x.transpose(0, 1), w));
    check('rms narrowed', [f([10, 12], dt), f([12], dt)], ([x, w]) => T.rmsNorm(x.narrow(0, 3, 5), w));
    check('rms 1000 rows (chunked weight grad)', [f([1000, 33], dt), f([33], dt)], ([x, w]) =>
      T.rmsNorm(x, w),
    );
    check('rms d=1', [f([4, 1], dt), f([1], dt)], ([x, w]) => T.rmsNorm(x, w));
  });

  it('layerNorm: weight and bias each present or absent, large and small d, views', () => {
    check('ln w+b d=300', [f([2, 7, 300], dt), f([300], dt), f([300], dt)], ([x, w, b]) =>
      T.layerNorm(x, w, b),
    );
    check('ln w', [f([13, 5], dt), f([5], dt)], ([x, w]) => T.layerNorm(x, w, null, 1e-3));
    check('ln b', [f([13, 5], dt), f([5], dt)], ([x, b]) => T.layerNorm(x, null, b));
    check('ln 700 rows (chunked grads)', [f([700, 45], dt), f([45], dt), f([45], dt)], ([x, w, b]) =>
      T.layerNorm(x, w, b),
    );
    check('ln none', [f([6, 513], dt)], ([x]) => T.layerNorm(x));
    check('ln transposed', [f([20, 4], dt), f([20], dt), f([20], dt)], ([x, w, b]) =>
      T.layerNorm(x.transpose(0, 1), w, b),
    );
    check('ln only w needs grad', [f([8, 9], dt), f([9], dt), f([9], dt, false)], ([x, w, b]) =>
      T.layerNorm(x, w, b),
    );
  });

  it('embedding: repeated ids accumulate, many rows, d not a power of two, transposed table', () => {
    const ids = randInts(4 * 33, 50);
    check('emb', [f([50, 37], dt), ints(ids, [4, 33])], ([w, i]) => T.embedding(i, w));
    check('emb repeats', [f([3, 5], dt), ints([2, 2, 2, 0, 2], [5])], ([w, i]) => T.embedding(i, w));
    check('emb transposed', [f([9, 20], dt), ints([1, 19, 0, 7, 19], [5])], ([w, i]) =>
      T.embedding(i, w.transpose(0, 1)),
    );
  });

  it('causalConv1d: with and without bias, K > T, channels above a block, views', () => {
    check('conv', [f([3, 40, 70], dt), f([70, 4], dt), f([70], dt)], ([x, w, b]) => T.causalConv1d(x, w, b));
    check('conv no bias', [f([2, 9, 300], dt), f([300, 3], dt)], ([x, w]) => T.causalConv1d(x, w));
    check('conv K > T', [f([2, 3, 5], dt), f([5, 6], dt), f([5], dt)], ([x, w, b]) =>
      T.causalConv1d(x, w, b),
    );
    check('conv 800 rows (chunked grads)', [f([4, 200, 5], dt), f([5, 3], dt), f([5], dt)], ([x, w, b]) =>
      T.causalConv1d(x, w, b),
    );
    check('conv K = 1', [f([1, 4, 3], dt), f([3, 1], dt)], ([x, w]) => T.causalConv1d(x, w));
    check('conv permuted', [f([2, 6, 11], dt), f([6, 2], dt), f([6], dt)], ([x, w, b]) =>
      T.causalConv1d(x.permute([0, 2, 1]), w, b),
    );
  });

  it('dropout: the same mask as the CPU for a seed (bit for bit), gradient through the mask', () => {
    for (const [p, s] of [
      [0.3, 12345],
      [0.9, -7],
      [0.01, 2 ** 40 + 3],
    ]) {
      check(`dropout p=${p} seed=${s}`, [f([1000, 7], dt)], ([x]) => T.dropout(x, { p, seed: s }), true);
    }
    check('dropout view', [f([30, 8], dt)], ([x]) => T.dropout(x.transpose(0, 1), { p: 0.5, seed: 3 }), true);
  });

  it('crossEntropy: C above a block and not a power of two, ignored rows, every reduction', () => {
    const n = 300;
    const c = 1000;
    const t = randInts(n, c).map((v, i) => (i % 7 === 3 ? -100 : v));
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      check(`xent ${reduction}`, [f([n, c], dt, true, -4, 4), ints(t)], ([l, tt]) =>
        T.crossEntropy(l, tt, { reduction }),
      );
    }
    check(
      'xent 3-D, ignoreIndex 2',
      [f([2, 5, 9], dt), ints([2, 0, 8, 2, 1, 3, 4, 5, 2, 6], [2, 5])],
      ([l, tt]) => T.crossEntropy(l, tt, { ignoreIndex: 2 }),
    );
    check('xent transposed', [f([9, 6], dt), ints([0, 8, 3, 3, 1, 2])], ([l, tt]) =>
      T.crossEntropy(l.transpose(0, 1), tt),
    );
    check('xent -inf logits', [f([3, 4], dt, false), ints([1, 0, 2])], ([l, tt]) =>
      T.crossEntropy(l.add(T.tensor([-Infinity, 0, 0, -Infinity], { dtype: dt, device: l.device })), tt),
    );
  });

  it('crossEntropy: every row ignored gives NaN (mean) and zero gradients', () => {
    check('xent all ignored', [f([3, 5], dt), ints([-100, -100, -100])], ([l, tt]) => T.crossEntropy(l, tt));
  });
});

describe('cuda nn: empty operands', () => {
  it('zero rows, zero ids, zero time steps', () => {
    check('rms 0 rows', [f([0, 5]), f([5])], ([x, w]) => T.rmsNorm(x, w));
    check('ln 0 rows', [f([0, 5]), f([5]), f([5])], ([x, w, b]) => T.layerNorm(x, w, b));
    check('emb 0 ids', [f([4, 3]), ints([], [0])], ([w, i]) => T.embedding(i, w));
    check('conv T=0', [f([2, 0, 3]), f([3, 2]), f([3])], ([x, w, b]) => T.causalConv1d(x, w, b));
    check('xent 0 rows', [f([0, 5]), ints([], [0])], ([l, t]) => T.crossEntropy(l, t, { reduction: 'sum' }));
    check('dropout empty', [f([0, 4])], ([x]) => T.dropout(x, { p: 0.5, seed: 1 }), true);
  });
});

describe('cuda nn: more rows than one launch', () => {
  it('rmsNorm / layerNorm / crossEntropy over 70000 rows (two launches of block-per-row)', () => {
    const rows = 70000;
    check('rms 70k', [f([rows, 2], 'float32'), f([2], 'float32')], ([x, w]) => T.rmsNorm(x, w));
    check('ln 70k', [f([rows, 3], 'float64'), f([3], 'float64'), f([3], 'float64')], ([x, w, b]) =>
      T.layerNorm(x, w, b),
    );
    check('xent 70k', [f([rows, 3], 'float64'), ints(randInts(rows, 3))], ([l, t]) => T.crossEntropy(l, t));
  });
});

describe('cuda nn: argument checks in the addon', () => {
  it('refuses an extent past a buffer', async () => {
    const { native } = await import('@nl/native');
    const { cudaPointer } = await import('../src/internal.js');
    const opts = { device: 'cuda', dtype: 'float64' } as const;
    const x = T.zeros([4, 3], opts);
    const y = T.zeros([4, 3], opts);
    const rstd = T.zeros([4], opts);
    const p = (t: Tensor) => cudaPointer(t.storage.buffer);
    expect(() => native.cudaRmsNormForward(1, p(x), 0, null, 0, 5, 3, 1e-6, p(y), 0, p(rstd), 0)).toThrow(
      /reaches element/,
    );
    expect(() => native.cudaRmsNormForward(1, p(x), 0, null, 0, 4, 3, 1e-6, p(y), 1, p(rstd), 0)).toThrow(
      /reaches element/,
    );
    expect(() => native.cudaDropoutForward(1, p(x), 0, 12, 1, 1.5, p(y), 0, p(y), 0)).toThrow(/p must be/);
    native.cudaRmsNormForward(1, p(x), 0, null, 0, 4, 3, 1e-6, p(y), 0, p(rstd), 0);
    for (const t of [x, y, rstd]) t.dispose();
  });
});

describe('cuda nn: column-sum scratch', () => {
  it('weight grads agree with no scratch, a scratch too small for every chunk, and a full one', async () => {
    const { native } = await import('@nl/native');
    const { cudaPointer } = await import('../src/internal.js');
    const rows = 3000;
    const d = 19;
    const opts = { device: 'cuda', dtype: 'float64' } as const;
    const x = T.tensor(rnd(rows * d), { ...opts, shape: [rows, d] });
    const g = T.tensor(rnd(rows * d), { ...opts, shape: [rows, d] });
    const rstd = T.tensor(rnd(rows, 0.5, 2), opts);
    const dx = T.zeros([rows, d], opts);
    const scratch = T.zeros([12 * d], opts);
    const p = (t: Tensor) => cudaPointer(t.storage.buffer);
    const dws = [null, 3 * d + 5, 12 * d].map((len) => {
      const dw = T.zeros([d], opts);
      native.cudaRmsNormBackward(1, p(g), 0, p(x), 0, null, 0, p(rstd), 0, rows, d, p(dx), 0, p(dw), 0, len === null ? null : p(scratch), 0, len ?? 0); // prettier-ignore
      const v = Array.from(dw.dataSync());
      dw.dispose();
      return v;
    });
    const xs = x.dataSync();
    const gs = g.dataSync();
    const rs = rstd.dataSync();
    const ref = Array.from({ length: d }, (_, j) => {
      let s = 0;
      for (let r = 0; r < rows; r++) s += gs[r * d + j] * xs[r * d + j] * rs[r];
      return s;
    });
    for (const dw of dws) assertClose('dw', ref, dw, { rtol: 1e-10, atol: 1e-10 });
    expect(
      () =>
      native.cudaRmsNormBackward(1, p(g), 0, p(x), 0, null, 0, p(rstd), 0, rows, d, p(dx), 0, null, 0, p(scratch), 0, 12 * d + 1), // prettier-ignore
    ).toThrow(/reaches element/);
    for (const t of [x, g, rstd, dx, scratch]) t.dispose();
  });
});
