// The fused NN kernels on plain typed arrays (no Tensor): forward against naive float64
// formulas written differently, backward against central finite differences of the forward.
import { describe, expect, it } from 'vitest';
import {
  checkTargets,
  crossEntropyBackward,
  crossEntropyForward,
} from '../src/nn/functional/kernels/cross-entropy.js';
import { causalConv1dBackward, causalConv1dForward } from '../src/nn/functional/kernels/conv1d.js';
import { dropoutMask } from '../src/nn/functional/kernels/dropout-mask.js';
import { checkIds, embeddingBackward, embeddingForward } from '../src/nn/functional/kernels/embedding.js';
import {
  layerNormBackward,
  layerNormForward,
  rmsNormBackward,
  rmsNormForward,
} from '../src/nn/functional/kernels/norm.js';

/** Deterministic uniform(-1, 1) values (LCG), so tests need no RNG from the core. */
function rand(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

/** Central finite-difference gradient of scalar f at x (x is perturbed in place and restored). */
function numGrad(f: () => number, x: Float64Array, eps = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    x[i] = v + eps;
    const fp = f();
    x[i] = v - eps;
    const fm = f();
    x[i] = v;
    g[i] = (fp - fm) / (2 * eps);
  }
  return g;
}

function expectClose(name: string, want: ArrayLike<number>, got: ArrayLike<number>, tol = 1e-7): void {
  expect(got.length, name).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++)
    worst = Math.max(worst, Math.abs(want[i] - got[i]) / (1 + Math.abs(want[i])));
  expect(worst, `${name}: max scaled diff`).toBeLessThan(tol);
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

describe('crossEntropy kernels', () => {
  const n = 5;
  const c = 4;
  const logits = rand(n * c, 1).map((v) => v * 3);
  const targets = new Int32Array([2, -100, 0, 3, 1]);

  it('forward matches -log(softmax[target]) and skips ignored rows', () => {
    const losses = new Float64Array(n);
    const probs = new Float64Array(n * c);
    crossEntropyForward(logits, targets, n, c, -100, losses, probs);
    for (let i = 0; i < n; i++) {
      const row = Array.from(logits.subarray(i * c, i * c + c));
      const z = row.reduce((s, v) => s + Math.exp(v), 0);
      const want = targets[i] === -100 ? 0 : -Math.log(Math.exp(row[targets[i]]) / z);
      expect(losses[i]).toBeCloseTo(want, 12);
      expect(probs[i * c + 1]).toBeCloseTo(Math.exp(row[1]) / z, 14);
    }
  });

  it('is stable for huge logits', () => {
    const big = new Float64Array([1000, 0, -1000, 999]);
    const losses = new Float64Array(1);
    crossEntropyForward(big, new Int32Array([3]), 1, 4, -100, losses, new Float64Array(4));
    expect(losses[0]).toBeCloseTo(1 + Math.log(1 + Math.exp(-1)), 12);
  });

  it('backward matches finite differences of sum(scale * loss)', () => {
    const scale = new Float64Array([0.5, 9, -1.5, 2, 0.25]);
    const f = (): number => {
      const losses = new Float64Array(n);
      crossEntropyForward(logits, targets, n, c, -100, losses, new Float64Array(n * c));
      return dot(losses, scale);
    };
    const probs = new Float64Array(n * c);
    crossEntropyForward(logits, targets, n, c, -100, new Float64Array(n), probs);
    const grad = new Float64Array(n * c);
    crossEntropyBackward(probs, targets, n, c, -100, scale, grad);
    expectClose('dlogits', numGrad(f, logits), grad);
  });

  it('names an out-of-range target', () => {
    expect(checkTargets(targets, n, c, -100)).toBe(4);
    expect(() => checkTargets(new Int32Array([0, 4]), 2, 4, -100)).toThrow(
      /target 4 at row 1 is out of range \[0, 4\)/,
    );
    expect(() => checkTargets(new Int32Array([-1]), 1, 4, -100)).toThrow(/target -1 at row 0/);
  });
});

describe('norm kernels', () => {
  const rows = 3;
  const d = 6;
  const x = rand(rows * d, 2).map((v) => v * 2 + 0.3);
  const w = rand(d, 3).map((v) => 1 + v);
  const b = rand(d, 4);
  const probe = rand(rows * d, 5);

  it('rmsNorm forward matches x / sqrt(mean(x^2) + eps) * w', () => {
    const y = new Float64Array(rows * d);
    rmsNormForward(x, w, rows, d, 1e-5, y, new Float64Array(rows));
    for (let i = 0; i < rows; i++) {
      const r = Array.from(x.subarray(i * d, i * d + d));
      const rms = Math.sqrt(r.reduce((s, v) => s + v * v, 0) / d + 1e-5);
      r.forEach((v, j) => expect(y[i * d + j]).toBeCloseTo((v / rms) * w[j], 13));
    }
  });

  it.each([true, false])('rmsNorm backward matches finite differences (weight: %s)', (withW) => {
    const wt = withW ? w : null;
    const f = (): number => {
      const y = new Float64Array(rows * d);
      rmsNormForward(x, wt, rows, d, 1e-5, y, new Float64Array(rows));
      return dot(y, probe);
    };
    const rstd = new Float64Array(rows);
    rmsNormForward(x, wt, rows, d, 1e-5, new Float64Array(rows * d), rstd);
    const dx = new Float64Array(rows * d);
    const dw = withW ? new Float64Array(d) : null;
    rmsNormBackward(probe, x, wt, rstd, rows, d, dx, dw);
    expectClose('dx', numGrad(f, x), dx);
    if (withW) expectClose('dw', numGrad(f, w), dw!);
  });

  it('layerNorm forward matches (x - mean) / sqrt(var + eps) * w + b', () => {
    const y = new Float64Array(rows * d);
    layerNormForward(x, w, b, rows, d, 1e-5, y, new Float64Array(rows), new Float64Array(rows));
    for (let i = 0; i < rows; i++) {
      const r = Array.from(x.subarray(i * d, i * d + d));
      const mu = r.reduce((s, v) => s + v, 0) / d;
      const sd = Math.sqrt(r.reduce((s, v) => s + (v - mu) ** 2, 0) / d + 1e-5);
      r.forEach((v, j) => expect(y[i * d + j]).toBeCloseTo(((v - mu) / sd) * w[j] + b[j], 13));
    }
  });

  it.each([true, false])('layerNorm backward matches finite differences (affine: %s)', (affine) => {
    const wt = affine ? w : null;
    const bt = affine ? b : null;
    const f = (): number => {
      const y = new Float64Array(rows * d);
      layerNormForward(x, wt, bt, rows, d, 1e-5, y, new Float64Array(rows), new Float64Array(rows));
      return dot(y, probe);
    };
    const mean = new Float64Array(rows);
    const rstd = new Float64Array(rows);
    layerNormForward(x, wt, bt, rows, d, 1e-5, new Float64Array(rows * d), mean, rstd);
    const dx = new Float64Array(rows * d);
    const dw = affine ? new Float64Array(d) : null;
    const db = affine ? new Float64Array(d) : null;
    layerNormBackward(probe, x, wt, mean, rstd, rows, d, dx, dw, db);
    expectClose('dx', numGrad(f, x), dx);
    if (affine) {
      expectClose('dw', numGrad(f, w), dw!);
      expectClose('db', numGrad(f, b), db!);
    }
  });
});

describe('embedding kernels', () => {
  it('gathers rows and scatter-adds repeated ids', () => {
    const weight = new Float64Array([0, 1, 10, 11, 20, 21]); // [3, 2]
    const ids = new Int32Array([2, 0, 2]);
    const out = new Float64Array(6);
    embeddingForward(weight, ids, 2, out);
    expect(Array.from(out)).toEqual([20, 21, 0, 1, 20, 21]);
    const dW = new Float64Array(6).fill(99);
    embeddingBackward(new Float64Array([1, 2, 3, 4, 5, 6]), ids, 2, dW);
    expect(Array.from(dW)).toEqual([3, 4, 0, 0, 6, 8]);
  });

  it('names an out-of-range index', () => {
    expect(() => checkIds(new Int32Array([0, 3]), 3)).toThrow(
      /index 3 at position 1 is out of range \[0, 3\)/,
    );
  });
});

describe('causal depthwise conv1d kernels', () => {
  const [bs, t, c, k] = [2, 5, 3, 3];
  const x = rand(bs * t * c, 6);
  const w = rand(c * k, 7);
  const bias = rand(c, 8);
  const probe = rand(bs * t * c, 9);

  it('forward matches a zero-padded cross-correlation per channel', () => {
    const y = new Float64Array(bs * t * c);
    causalConv1dForward(x, w, bias, bs, t, c, k, y);
    for (let bi = 0; bi < bs; bi++) {
      for (let ci = 0; ci < c; ci++) {
        const padded = [...new Array<number>(k - 1).fill(0)];
        for (let ti = 0; ti < t; ti++) padded.push(x[(bi * t + ti) * c + ci]);
        for (let ti = 0; ti < t; ti++) {
          let want = bias[ci];
          for (let j = 0; j < k; j++) want += padded[ti + j] * w[ci * k + j];
          expect(y[(bi * t + ti) * c + ci]).toBeCloseTo(want, 13);
        }
      }
    }
  });

  it('backward matches finite differences for x, w and bias', () => {
    const f = (): number => {
      const y = new Float64Array(bs * t * c);
      causalConv1dForward(x, w, bias, bs, t, c, k, y);
      return dot(y, probe);
    };
    const dx = new Float64Array(bs * t * c);
    const dw = new Float64Array(c * k);
    const db = new Float64Array(c);
    causalConv1dBackward(probe, x, w, bs, t, c, k, dx, dw, db);
    expectClose('dx', numGrad(f, x), dx);
    expectClose('dw', numGrad(f, w), dw);
    expectClose('db', numGrad(f, bias), db);
  });
});

describe('dropout masks', () => {
  it('same seed, same mask; other seed, other mask; inverted scaling', () => {
    const a = new Float64Array(4000);
    const b = new Float64Array(4000);
    const other = new Float64Array(4000);
    dropoutMask(42, 0.25, a);
    dropoutMask(42, 0.25, b);
    dropoutMask(43, 0.25, other);
    expect(b).toEqual(a);
    expect(other).not.toEqual(a);
    const kept = a.filter((v) => v !== 0);
    expect(new Set(a)).toEqual(new Set([0, 1 / 0.75]));
    // 4000 Bernoulli(0.75) draws: mean 3000, sd ~27; 6 sd either side.
    expect(Math.abs(kept.length - 3000)).toBeLessThan(165);
    const agree = a.reduce((s, v, i) => s + (v === other[i] ? 1 : 0), 0);
    expect(Math.abs(agree - 4000 * (0.75 ** 2 + 0.25 ** 2))).toBeLessThan(200);
  });

  it('p = 0 keeps everything', () => {
    const m = new Float32Array(100);
    dropoutMask(1, 0, m);
    expect(m.every((v) => v === 1)).toBe(true);
  });
});
