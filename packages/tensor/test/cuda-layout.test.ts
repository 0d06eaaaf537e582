// The layout-family CUDA kernels (reduce, softmax, where, assign, fillView, triangle, scan,
// cumprodBackward, prodBackward) diffed against the CPU, outputs and gradients, on 'cuda' (a real
// GPU when one serves it, else the host emulator): reductions spanning many blocks, over middle and
// several dims of non-contiguous views, NaN / ties / infinities, int32, float32 and float64.
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import type { DType, Tensor } from '../src/index.js';
import { assertClose, enableCudaEmulation } from '../src/testing-entry.js';

beforeAll(() => {
  enableCudaEmulation();
});

let seed = 7;
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
const tol = (dt: DType) => (dt === 'float64' ? { rtol: 1e-9, atol: 1e-12 } : { rtol: 2e-5, atol: 1e-6 });

/** Runs `fn` on cpu and cuda; outputs and the gradients of sum(out_i * w_i) must agree. */
function check(
  name: string,
  inputs: Input[],
  fn: (xs: Tensor[]) => Tensor | Tensor[],
  gradAtol32 = 1e-6,
): void {
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
    return { values, grads };
  };
  const s = seed;
  const ref = run('cpu');
  seed = s; // the same loss weights
  const got = run('cuda');
  ref.values.forEach((v, i) => {
    expect(got.values[i].dtype, `${name} out ${i} dtype`).toBe(v.dtype);
    expect(got.values[i].shape, `${name} out ${i} shape`).toEqual(v.shape);
    assertClose(`${name} out ${i}`, v.data, got.values[i].data, tol(v.dtype));
  });
  ref.grads.forEach((g, i) => {
    if (g === null) expect(got.grads[i]).toBeNull();
    else {
      const t = tol(inputs[i].dtype ?? 'float64');
      assertClose(
        `${name} grad ${i}`,
        g,
        got.grads[i]!,
        inputs[i].dtype === 'float32' ? { ...t, atol: gradAtol32 } : t,
      );
    }
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

const FLOATS: DType[] = ['float32', 'float64'];

describe.each(FLOATS)('cuda reduce (%s) equals the CPU', (dt) => {
  it('every op over single, middle and several dims of a contiguous tensor', () => {
    for (const dims of [[0], [1], [2], [0, 2], [1, 2], [0, 1, 2]]) {
      check(`sum/mean/max/min/lse/var/prod ${dims}`, [f([4, 37, 50], dt, true, 0.5, 1.5)], ([x]) => [
        T.sum(x, dims),
        T.mean(x, dims, true),
        T.max(x, dims),
        T.min(x, dims),
        T.logsumexp(x, dims),
        T.variance(x, dims),
        T.variance(x, dims, { correction: 0 }),
        T.prod(x.sub(0.5).mul(0.2).add(0.95), dims),
      ]);
    }
  });

  it('over non-contiguous views (permuted, narrowed, expanded)', () => {
    for (const dims of [[0], [1], [0, 2], [1, 2]]) {
      check(`views ${dims}`, [f([6, 40, 33], dt)], ([x]) => {
        const p = x.permute([2, 0, 1]);
        const n = x.narrow(1, 3, 30).narrow(2, 1, 31);
        const e = x.select(0, 2).unsqueeze(0).expand([5, 40, 33]);
        return [T.sum(p, dims), T.max(n, dims), T.variance(p, dims), T.logsumexp(n, dims), T.mean(e, dims)];
      });
    }
    check('argmax/argmin of views', [f([6, 40, 33], dt, false)], ([x]) => {
      const p = x.permute([2, 0, 1]);
      return [p.argmax(0), p.argmax(1), p.argmin(2), x.narrow(1, 5, 20).argmin(1), p.argmax()];
    });
  });

  it('large rows spanning many blocks (chunked with a combine pass)', () => {
    check('1-D 300k', [f([300_000], dt)], ([x]) => [
      T.sum(x),
      T.mean(x),
      T.max(x),
      T.min(x),
      T.logsumexp(x),
      T.variance(x),
    ]);
    check('1-D 300k arg', [f([300_000], dt, false)], ([x]) => [x.argmax(), x.argmin()]);
    check('[3, 90000] dim 1 and a strided view', [f([3, 90_000], dt)], ([x]) => [
      T.sum(x, 1),
      T.logsumexp(x, 1),
      T.variance(x.t(), 0),
      T.max(x.t(), 0),
    ]);
  });

  it('column reductions (kept dims innermost) and many rows', () => {
    check('[5000, 8] dim 0', [f([5000, 8], dt)], ([x]) => [T.sum(x, 0), T.mean(x, 0), T.max(x, 0)]);
    check('[40, 3000] dim 0', [f([40, 3000], dt)], ([x]) => [T.sum(x, 0), T.variance(x, 0), T.min(x, 0)]);
    check('[3000, 70] dim 1', [f([3000, 70], dt)], ([x]) => [T.sum(x, 1), T.logsumexp(x, 1)]);
    check('[20000, 40] dim 0 (column chunks)', [f([20_000, 40], dt)], ([x]) => [
      T.sum(x, 0),
      T.variance(x, 0),
      T.logsumexp(x, 0),
      T.prod(x.narrow(0, 0, 300).mul(0.01).add(1), 0),
    ]);
    check('[6, 3000, 20] dims 0, 1 of a view', [f([6, 3000, 20], dt)], ([x]) => [
      T.sum(x, [0, 1]),
      T.mean(x.narrow(2, 2, 17), [0, 1], true),
    ]);
    const d = rnd(3000 * 50).map((v) => Math.round(v * 4));
    d[2000 * 50 + 7] = NaN;
    d[2500 * 50 + 7] = NaN;
    check(
      'column argmax/argmin: ties and NaN across chunks',
      [{ data: d, shape: [3000, 50], dtype: dt, grad: false }],
      ([x]) => [x.argmax(0), x.argmin(0), T.max(x, 0)],
    );
  });

  it('NaN wins max/min and the first NaN is argmax/argmin; ties go to the first index', () => {
    const n = 20_000;
    const data = rnd(3 * n);
    data[5] = NaN; // row 0: one NaN early
    data[n + 15_000] = NaN; // row 1: two NaNs in different chunks
    data[n + 19_000] = NaN;
    const x = { data, shape: [3, n], dtype: dt, grad: false };
    check('NaN rows', [x], ([t]) => [T.max(t, 1), T.min(t, 1), t.argmax(1), t.argmin(1), T.logsumexp(t, 1)]);
    const ties = [1, 3, 3, 2, 3, 0, 0, 3, -1, -1, 0, -1];
    check('ties', [{ data: ties, shape: [3, 4], dtype: dt, grad: false }], ([t]) => [
      t.argmax(1),
      t.argmin(1),
      t.argmax(0),
      t.argmin(0),
      t.argmax(),
    ]);
    const big = new Array<number>(50_000).fill(2);
    big[30_000] = 5;
    big[40_000] = 5;
    check('ties across chunks', [{ data: big, shape: [50_000], dtype: dt, grad: false }], ([t]) => [
      t.argmax(),
      t.argmin(),
    ]);
  });

  it('infinities in logsumexp', () => {
    const I = Infinity;
    const data = [-I, -I, -I, 1, I, 2, NaN, I, 0, NaN, NaN, NaN, -I, 3, -I];
    check('lse inf', [{ data, shape: [5, 3], dtype: dt, grad: false }], ([t]) => [
      T.logsumexp(t, 1),
      T.max(t, 1),
      t.argmax(1),
    ]);
  });
});

describe('cuda reduce of int32 and empty tensors', () => {
  it('int32: sum/max stay int32, mean/var/logsumexp are float32, argmax int32', () => {
    const data = rnd(600, -50, 50).map(Math.round);
    check('int32', [{ data, shape: [20, 30], dtype: 'int32', grad: false }], ([t]) => [
      T.sum(t, 1),
      T.max(t, 0),
      T.min(t),
      T.mean(t, 1),
      T.variance(t, 0),
      T.logsumexp(t.mul(0), 1),
      t.argmax(1),
      T.prod(t.narrow(1, 0, 3), 1),
    ]);
  });

  it('empty dims: sum 0, prod 1, mean NaN; max throws like the CPU', () => {
    for (const device of ['cpu', 'cuda'] as const) {
      const e = T.zeros([0, 3], { device });
      expect(Array.from(T.sum(e, 0).dataSync())).toEqual([0, 0, 0]);
      expect(Array.from(T.prod(e, 0).dataSync())).toEqual([1, 1, 1]);
      expect(Array.from(T.mean(e, 0).dataSync()).every(Number.isNaN)).toBe(true);
      expect(T.sum(e, 1).shape).toEqual([0]);
      expect(() => T.max(e, 0)).toThrow(/max: cannot reduce over an empty dimension/);
    }
  });
});

describe.each(FLOATS)('cuda softmax / where / assign / scans (%s) equal the CPU', (dt) => {
  it('softmax and logSoftmax along every dim (block rows and line kernels), with grads', () => {
    for (const d of [0, 1, 2])
      check(
        `softmax dim ${d}`,
        [f([3, 40, 70], dt)],
        ([x]) => [T.softmax(x.mul(3), d), T.logSoftmax(x, d)],
        1e-5,
      );
    // float32 grads: the CPU's float exp differs in the last bits and g - sum(g * y) cancels: atol 1e-5
    check('long rows', [f([2, 5000], dt)], ([x]) => [T.softmax(x.mul(10), 1), T.logSoftmax(x, 1)], 1e-5);
    check('view input', [f([50, 40], dt)], ([x]) => [T.softmax(x.t(), 1), T.logSoftmax(x.t(), 0)], 1e-5);
    const I = Infinity;
    const rows = [-I, -I, -I, -I, 0, 1, -I, 2, NaN, 1, 2, 3, I, 0, 1, 2];
    const wide = Array.from({ length: 4 }, (_, r) =>
      Array.from({ length: 40 }, (_, i) => rows[r * 4 + (i % 4)]),
    ).flat();
    check('infinities', [{ data: rows, shape: [4, 4], dtype: dt, grad: false }], ([t]) => [
      T.softmax(t, 1),
      T.logSoftmax(t, 1),
    ]);
    check('infinities, block rows', [{ data: wide, shape: [4, 40], dtype: dt, grad: false }], ([t]) => [
      T.softmax(t, 1),
      T.logSoftmax(t, 1),
    ]);
  });

  it('where with broadcasting, mixed dtypes and scalars', () => {
    const cond = {
      data: rnd(20).map((v) => (v > 0 ? 1 : 0)),
      shape: [4, 5],
      dtype: 'int32' as DType,
      grad: false,
    };
    const fcond = {
      data: rnd(5).map((v) => (v > 0 ? 0.5 : 0)),
      shape: [5],
      dtype: 'float32' as DType,
      grad: false,
    };
    check('where', [cond, fcond, f([4, 1], dt), f([5], dt)], ([c, fc, a, b]) => [
      T.where(c, a, b),
      T.where(fc, a, b),
      T.where(c, a.t().expand([3, 4]).t().narrow(1, 0, 1), 2.5),
      T.where(c, 1, b),
    ]);
    check('where mixed dtypes', [cond, f([4, 5], 'float32'), f([4, 5], 'float64', false)], ([c, a, b]) =>
      T.where(c, a, b),
    );
  });

  it('cat / stack / pad / slices of views (assign), with grads', () => {
    check('join', [f([3, 4, 5], dt), f([3, 2, 5], dt)], ([a, b]) => [
      T.cat([a.permute([0, 2, 1]), b.permute([0, 2, 1])], 2),
      T.stack([a.narrow(1, 0, 2), b], 3),
      T.pad(a.t(), [2, 1, 0, 3], -1.5),
      a.slice(2, 1, 5, 2).narrow(0, 1, 2),
      ...T.split(a.t(), 2, 1),
    ]);
  });

  it('fill_ / zero_ / copy_ on views, dtype conversion and overlapping copies', () => {
    check('inplace', [f([6, 5], dt, false, -5, 5), f([5], 'float64', false, -3e9, 3e9)], ([a, b]) => {
      const c = a.clone();
      T.fill_(c.t().narrow(0, 1, 2), 7.25);
      T.zero_(c.slice(0, 0, 6, 3));
      const d = a.clone();
      T.copy_(d.narrow(1, 1, 4), d.narrow(1, 0, 4)); // overlapping: reads a snapshot
      const i = T.zeros([3, 5], { dtype: 'int32', device: a.device });
      T.copy_(i, a.narrow(0, 0, 3)); // float -> int32 truncates
      const j = T.zeros([5], { dtype: 'int32', device: a.device });
      T.copy_(j, b); // beyond int32: wraps like an Int32Array store
      const k = T.zeros([2, 5], { dtype: 'int32', device: a.device });
      T.fill_(k.t(), -3.7);
      return [c, d, i, j, k];
    });
  });

  it('tril / triu / cumsum / cumprod (and their backward) on every dim', () => {
    check('triangles', [f([2, 4, 5], dt)], ([x]) => [
      T.tril(x),
      T.triu(x, 1),
      T.tril(x.transpose(1, 2), -2),
      T.triu(x, -7),
      T.tril(x, 9),
    ]);
    for (const d of [0, 1, 2])
      check(`scans dim ${d}`, [f([3, 4, 5], dt, true, 0.5, 1.5)], ([x]) => [
        T.cumsum(x, d),
        T.cumprod(x.permute([2, 1, 0]), d),
      ]);
    const z = rnd(12, 0.5, 1.5);
    z[3] = 0;
    z[7] = 0;
    check('cumprod with zeros', [{ data: z, shape: [3, 4], dtype: dt, grad: true }], ([x]) => [
      T.cumprod(x, 1),
      T.cumprod(x, 0),
    ]);
    // few long lines: a block per line
    check('long cumsum', [f([3000], dt)], ([x]) => T.cumsum(x, 0));
    check('long scans with inner > 1, grads', [f([2500, 3], dt, true, 0.999, 1.001)], ([x]) => [
      T.cumsum(x, 0),
      T.cumprod(x, 0),
      T.cumsum(x.t(), 1),
    ]);
    const ints = { data: [1, 2, 3, 4, 5, 6], shape: [2, 3], dtype: 'int32' as DType, grad: false };
    check('int32 cumsum', [ints], ([x]) => [T.cumsum(x, 1), T.cumprod(x, 0), T.tril(x)]);
  });

  it('prod backward over several dims of a view, zeros included', () => {
    const data = rnd(60, 0.5, 1.5);
    data[4] = 0;
    data[33] = 0;
    data[34] = 0;
    const x = { data, shape: [3, 4, 5], dtype: dt, grad: true };
    check('prod grads', [x], ([t]) => [
      T.prod(t, 1),
      T.prod(t, [0, 2], true),
      T.prod(t.permute([1, 2, 0]), [0, 2]),
      T.prod(t),
    ]);
  });
});
