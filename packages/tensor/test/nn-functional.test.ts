// The fused NN ops through the public API: float64 gradcheck of every differentiable input,
// forward against plain float64 JS references, float32 paths, and bad-input errors.
import { beforeEach, describe, expect, it } from 'vitest';
import { manualSeed, memory, nn, randn, type Tensor, tensor, testing } from '../src/index.js';

const F = nn.functional;
const { assertClose, gradcheck } = testing;

/** float64 leaf with gradients, N(0, 1) * scale + shift. */
function leaf(shape: number[], scale = 1, shift = 0): Tensor {
  const t = tensor(
    Array.from(randn(shape, { dtype: 'float64' }).dataSync(), (v) => v * scale + shift),
    {
      shape,
      dtype: 'float64',
    },
  );
  t.requiresGrad = true;
  return t;
}
const ids = (values: number[], shape = [values.length]): Tensor => tensor(values, { shape, dtype: 'int32' });
const arr = (t: Tensor): number[] => Array.from(t.dataSync());

beforeEach(() => manualSeed(7));

describe('crossEntropy', () => {
  /** -log softmax(row)[t], plain JS. */
  function refLosses(logits: number[][], targets: number[], ignore: number): number[] {
    return logits.map((row, i) => {
      if (targets[i] === ignore) return 0;
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
      return lse - row[targets[i]];
    });
  }

  it.each(['mean', 'sum', 'none'] as const)('forward matches a JS reference (%s)', (reduction) => {
    const logits = leaf([5, 4], 2);
    const targets = [3, -100, 0, 1, 3];
    const got = F.crossEntropy(logits, ids(targets), { reduction });
    const rows = logits.toArray() as number[][];
    const per = refLosses(rows, targets, -100);
    const sum = per.reduce((a, b) => a + b, 0);
    const want = reduction === 'none' ? per : [reduction === 'sum' ? sum : sum / 4];
    expect(got.shape).toEqual(reduction === 'none' ? [5] : []);
    assertClose(
      `crossEntropy ${reduction}`,
      tensor(want, { shape: got.shape as number[], dtype: 'float64' }),
      got,
      {
        rtol: 1e-12,
        atol: 1e-12,
      },
    );
  });

  it.each(['mean', 'sum', 'none'] as const)('gradcheck (%s, custom ignoreIndex)', (reduction) => {
    const logits = leaf([4, 6]);
    const targets = ids([5, 2, 7, 0]);
    const probe = tensor([0.3, -1.2, 2, 0.7], { dtype: 'float64' });
    gradcheck(
      (l: Tensor) => {
        const out = F.crossEntropy(l, targets, { reduction, ignoreIndex: 7 });
        return reduction === 'none' ? out.mul(probe).sum() : out;
      },
      [logits],
    );
  });

  it('flattens [B, T, C] logits with [B, T] targets; none keeps [B, T]', () => {
    const logits = leaf([2, 3, 4]);
    const t = ids([0, 1, 2, 3, -100, 1], [2, 3]);
    const flat = F.crossEntropy(logits.reshape([6, 4]), t.reshape([6]), { reduction: 'none' });
    const none = F.crossEntropy(logits, t, { reduction: 'none' });
    expect(none.shape).toEqual([2, 3]);
    expect(arr(none)).toEqual(arr(flat));
    expect(F.crossEntropy(logits, t).item()).toBeCloseTo(arr(flat).reduce((a, b) => a + b) / 5, 14);
    gradcheck((l: Tensor) => F.crossEntropy(l, t), [logits]);
  });

  it('handles N = 0 (sum 0, mean NaN like PyTorch) and all-ignored rows', () => {
    const empty = leaf([0, 3]);
    expect(F.crossEntropy(empty, ids([]), { reduction: 'sum' }).item()).toBe(0);
    expect(F.crossEntropy(empty, ids([])).item()).toBeNaN();
    const l = leaf([2, 3]);
    const loss = F.crossEntropy(l, ids([-100, -100]), { reduction: 'sum' });
    expect(loss.item()).toBe(0);
    loss.backward();
    expect(arr(l.grad!)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('runs in float32 close to float64', () => {
    const l64 = leaf([3, 5]);
    const l32 = l64.detach().to('float32');
    const t = ids([1, 4, 0]);
    const a = F.crossEntropy(l64, t);
    const b = F.crossEntropy(l32, t);
    expect(b.dtype).toBe('float32');
    expect(b.item()).toBeCloseTo(a.item(), 5);
  });

  it('names bad inputs', () => {
    const l = leaf([2, 3]);
    expect(() => F.crossEntropy(l, ids([0, 3]))).toThrow(/target 3 at row 1 is out of range \[0, 3\)/);
    expect(() => F.crossEntropy(l, ids([0]))).toThrow(
      /targets must have shape \[2\] to match logits \[2, 3\], got \[1\]/,
    );
    expect(() => F.crossEntropy(leaf([2, 3, 1]), ids([0, 0]))).toThrow(
      /targets must have shape \[2, 3\] to match logits \[2, 3, 1\], got \[2\]/,
    );
    expect(() => F.crossEntropy(leaf([3]), ids([0]))).toThrow(
      /logits must be \[N, C\] or \[..., C\], got \[3\]/,
    );
    expect(() => F.crossEntropy(l, tensor([0, 1], { dtype: 'float32' }))).toThrow(
      /targets must be int32, got float32/,
    );
    expect(() => F.crossEntropy(l, ids([0, 1]), { reduction: 'avg' as never })).toThrow(/reduction must be/);
  });
});

describe('rmsNorm and layerNorm', () => {
  it('rmsNorm forward matches x / sqrt(mean(x^2) + eps) * w', () => {
    const x = leaf([2, 3, 4]);
    const w = leaf([4], 0.2, 1);
    const y = F.rmsNorm(x, w, 1e-5);
    const xs = arr(x);
    const ws = arr(w);
    const want: number[] = [];
    for (let r = 0; r < 6; r++) {
      const row = xs.slice(r * 4, r * 4 + 4);
      const rms = Math.sqrt(row.reduce((s, v) => s + v * v, 0) / 4 + 1e-5);
      row.forEach((v, j) => want.push((v / rms) * ws[j]));
    }
    assertClose('rmsNorm', tensor(want, { shape: [2, 3, 4], dtype: 'float64' }), y, {
      rtol: 1e-12,
      atol: 1e-12,
    });
  });

  it('layerNorm forward matches (x - mean) / sqrt(var + eps) * w + b', () => {
    const x = leaf([3, 5], 2, 1);
    const w = leaf([5], 0.2, 1);
    const b = leaf([5]);
    const y = F.layerNorm(x, w, b, 1e-5);
    const xs = arr(x);
    const [ws, bs] = [arr(w), arr(b)];
    const want: number[] = [];
    for (let r = 0; r < 3; r++) {
      const row = xs.slice(r * 5, r * 5 + 5);
      const mu = row.reduce((s, v) => s + v, 0) / 5;
      const sd = Math.sqrt(row.reduce((s, v) => s + (v - mu) ** 2, 0) / 5 + 1e-5);
      row.forEach((v, j) => want.push(((v - mu) / sd) * ws[j] + bs[j]));
    }
    assertClose('layerNorm', tensor(want, { shape: [3, 5], dtype: 'float64' }), y, {
      rtol: 1e-12,
      atol: 1e-12,
    });
  });

  it('gradcheck rmsNorm with and without weight', () => {
    const x = leaf([2, 3, 4]);
    const w = leaf([4], 0.3, 1);
    const probe = leaf([2, 3, 4]).detach();
    gradcheck((a: Tensor, b: Tensor) => F.rmsNorm(a, b, 1e-6).mul(probe).sum(), [x, w]);
    gradcheck((a: Tensor) => F.rmsNorm(a, null).mul(probe).sum(), [x]);
  });

  it('gradcheck layerNorm with weight and bias, weight only, neither', () => {
    const x = leaf([4, 3], 1.5, 0.5);
    const w = leaf([3], 0.3, 1);
    const b = leaf([3]);
    const probe = leaf([4, 3]).detach();
    gradcheck((a: Tensor, c: Tensor, d: Tensor) => F.layerNorm(a, c, d).mul(probe).sum(), [x, w, b]);
    gradcheck((a: Tensor, c: Tensor) => F.layerNorm(a, c, null).mul(probe).sum(), [x, w]);
    gradcheck((a: Tensor) => F.layerNorm(a).mul(probe).sum(), [x]);
  });

  it('gradcheck through a non-contiguous input', () => {
    const x = leaf([4, 3]);
    const probe = leaf([3, 4]).detach();
    gradcheck((a: Tensor) => F.rmsNorm(a.transpose(0, 1), null).mul(probe).sum(), [x]);
  });

  it('names bad inputs', () => {
    const x = leaf([2, 4]);
    expect(() => F.rmsNorm(x, leaf([3]))).toThrow(
      /weight must have shape \[4\] \(the last dim of x \[2, 4\]\), got \[3\]/,
    );
    expect(() => F.layerNorm(x, null, leaf([4]).to('float32'))).toThrow(/x is float64 but bias is float32/);
    expect(() => F.rmsNorm(ids([1, 2]))).toThrow(/x must be float32 or float64, got int32/);
    expect(() => F.layerNorm(x, null, null, -1)).toThrow(/eps must be >= 0/);
  });
});

describe('embedding', () => {
  it('forward gathers rows; backward scatter-adds repeated ids', () => {
    const w = leaf([5, 3]);
    const i = ids([4, 0, 4, 2], [2, 2]);
    const y = F.embedding(i, w);
    expect(y.shape).toEqual([2, 2, 3]);
    const rows = w.toArray() as number[][];
    assertClose(
      'embedding',
      tensor([rows[4], rows[0], rows[4], rows[2]], { dtype: 'float64' }).reshape([2, 2, 3]),
      y,
    );
    y.sum().backward();
    expect(w.grad!.toArray()).toEqual([
      [1, 1, 1],
      [0, 0, 0],
      [1, 1, 1],
      [0, 0, 0],
      [2, 2, 2],
    ]);
  });

  it('gradcheck', () => {
    const w = leaf([4, 2]);
    const probe = leaf([3, 2]).detach();
    gradcheck(
      (a: Tensor) =>
        F.embedding(ids([3, 3, 1]), a)
          .mul(probe)
          .sum(),
      [w],
    );
  });

  it('names out-of-range ids', () => {
    expect(() => F.embedding(ids([0, 5]), leaf([5, 2]))).toThrow(
      /index 5 at position 1 is out of range \[0, 5\)/,
    );
    expect(() => F.embedding(ids([-1]), leaf([5, 2]))).toThrow(/index -1 at position 0/);
    expect(() => F.embedding(ids([0]), leaf([5]))).toThrow(/weight must be 2-D \[V, D\], got \[5\]/);
  });
});

describe('causalConv1d', () => {
  it('forward matches a per-channel causal sum', () => {
    const [B, T, C, K] = [2, 6, 3, 4];
    const x = leaf([B, T, C]);
    const w = leaf([C, K]);
    const b = leaf([C]);
    const y = F.causalConv1d(x, w, b);
    const xs = x.toArray() as number[][][];
    const ws = w.toArray() as number[][];
    const bs = arr(b);
    const want = xs.map((seq) =>
      seq.map((_, t) =>
        bs.map((bias, c) => {
          let s = bias;
          for (let j = 0; j < K; j++) if (t - (K - 1) + j >= 0) s += ws[c][j] * seq[t - (K - 1) + j][c];
          return s;
        }),
      ),
    );
    assertClose('causalConv1d', tensor(want, { dtype: 'float64' }), y, { rtol: 1e-12, atol: 1e-12 });
  });

  it('output t does not depend on inputs after t', () => {
    const x = leaf([1, 5, 2]).detach();
    const w = leaf([2, 3]).detach();
    const y1 = arr(F.causalConv1d(x, w));
    const x2 = x.toArray() as number[][][];
    x2[0][4] = [100, -100];
    const y2 = arr(F.causalConv1d(tensor(x2, { dtype: 'float64' }), w));
    expect(y2.slice(0, 8)).toEqual(y1.slice(0, 8));
    expect(y2.slice(8)).not.toEqual(y1.slice(8));
  });

  it('gradcheck with and without bias, K larger than T', () => {
    const x = leaf([2, 3, 2]);
    const w = leaf([2, 5]);
    const b = leaf([2]);
    const probe = leaf([2, 3, 2]).detach();
    gradcheck((a: Tensor, c: Tensor, d: Tensor) => F.causalConv1d(a, c, d).mul(probe).sum(), [x, w, b]);
    gradcheck((a: Tensor, c: Tensor) => F.causalConv1d(a, c).mul(probe).sum(), [x, w]);
  });

  it('names bad shapes', () => {
    expect(() => F.causalConv1d(leaf([2, 3]), leaf([3, 2]))).toThrow(
      /x must be 3-D \[B, T, C\], got \[2, 3\]/,
    );
    expect(() => F.causalConv1d(leaf([1, 3, 2]), leaf([3, 2]))).toThrow(
      /weight must be \[C, K\] with C = 2 \(from x \[1, 3, 2\]\) and K >= 1, got \[3, 2\]/,
    );
    expect(() => F.causalConv1d(leaf([1, 3, 2]), leaf([2, 2]), leaf([3]))).toThrow(
      /bias must have shape \[2\]/,
    );
  });
});

describe('dropout', () => {
  it('same seed, same mask; backward uses the mask; eval is identity', () => {
    const x = leaf([40, 50], 0, 1); // all ones
    const a = F.dropout(x, { p: 0.3, seed: 11 });
    const b = F.dropout(x, { p: 0.3, seed: 11 });
    expect(arr(a)).toEqual(arr(b));
    const values = new Set(arr(a));
    expect([...values].sort()).toEqual([0, 1 / 0.7]);
    const kept = arr(a).filter((v) => v !== 0).length;
    expect(Math.abs(kept - 1400)).toBeLessThan(6 * Math.sqrt(2000 * 0.21)); // 6 sd of Binomial(2000, 0.7)
    a.sum().backward();
    expect(arr(x.grad!)).toEqual(arr(a)); // d(sum(x * m))/dx = m, and x = 1 so y = m
    expect(F.dropout(x, { p: 0.3, training: false })).toBe(x);
  });

  it('draws its seed from the global generator (manualSeed repeats it)', () => {
    const x = leaf([100], 0, 1).detach();
    manualSeed(3);
    const a = arr(F.dropout(x, { p: 0.5 }));
    manualSeed(3);
    const b = arr(F.dropout(x, { p: 0.5 }));
    const c = arr(F.dropout(x, { p: 0.5 }));
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('gradcheck with a fixed seed', () => {
    const x = leaf([3, 4]);
    gradcheck((a: Tensor) => F.dropout(a, { p: 0.4, seed: 5 }).mul(a).sum(), [x]);
  });

  it('rejects p outside [0, 1)', () => {
    expect(() => F.dropout(leaf([2]), { p: 1 })).toThrow(/p must be in \[0, 1\), got 1/);
  });
});

describe('package surface', () => {
  it('exports the fused ops at the top level and under nn.functional', async () => {
    const pkg = await import('../src/index.js');
    for (const name of [
      'crossEntropy',
      'rmsNorm',
      'layerNorm',
      'embedding',
      'causalConv1d',
      'dropout',
    ] as const) {
      expect(pkg[name], name).toBe(nn.functional[name]);
    }
    expect(typeof pkg.io.save).toBe('function');
    expect(typeof pkg.nn.Module).toBe('function');
  });
});

describe('edge shapes and float32', () => {
  it('size-0 dims pass through forward and backward', () => {
    const cases: [string, () => [Tensor, Tensor[]]][] = [
      [
        'rmsNorm rows',
        () => {
          const x = leaf([0, 4]);
          const w = leaf([4]);
          return [F.rmsNorm(x, w), [x, w]];
        },
      ],
      [
        'layerNorm rows',
        () => {
          const x = leaf([2, 0, 3]);
          const w = leaf([3]);
          const b = leaf([3]);
          return [F.layerNorm(x, w, b), [x, w, b]];
        },
      ],
      [
        'embedding ids',
        () => {
          const w = leaf([3, 2]);
          return [F.embedding(ids([]), w), [w]];
        },
      ],
      [
        'conv1d time',
        () => {
          const x = leaf([2, 0, 3]);
          const w = leaf([3, 2]);
          return [F.causalConv1d(x, w), [x, w]];
        },
      ],
    ];
    for (const [name, make] of cases) {
      const [y, inputs] = make();
      expect(y.numel, name).toBe(0);
      y.sum().backward();
      for (const t of inputs) {
        expect(t.grad!.shape, name).toEqual(t.shape);
        expect(
          arr(t.grad!).every((v) => v === 0),
          name,
        ).toBe(true);
      }
    }
  });

  it('float32 inputs give float32 outputs close to float64', () => {
    const x = leaf([3, 4, 5]);
    const w = leaf([5], 0.1, 1);
    const b = leaf([5]);
    const k = leaf([5, 3]);
    const to32 = (t: Tensor): Tensor => t.detach().to('float32');
    const pairs: [string, Tensor, Tensor][] = [
      ['rmsNorm', F.rmsNorm(x, w), F.rmsNorm(to32(x), to32(w))],
      ['layerNorm', F.layerNorm(x, w, b), F.layerNorm(to32(x), to32(w), to32(b))],
      ['causalConv1d', F.causalConv1d(x, k, b), F.causalConv1d(to32(x), to32(k), to32(b))],
      [
        'embedding',
        F.embedding(ids([2, 0]), w.reshape([5, 1])),
        F.embedding(ids([2, 0]), to32(w).reshape([5, 1])),
      ],
    ];
    for (const [name, want, got] of pairs) {
      expect(got.dtype, name).toBe('float32');
      assertClose(name, arr(want), got, { rtol: 1e-5, atol: 1e-5 });
    }
  });

  it('float32 gradients agree with float64 ones', () => {
    const x = leaf([4, 6]);
    const w = leaf([6], 0.1, 1);
    const x32 = x.detach().to('float32');
    const w32 = w.detach().to('float32');
    x32.requiresGrad = true;
    w32.requiresGrad = true;
    const probe = leaf([4, 6]).detach();
    F.layerNorm(x, w).mul(probe).sum().backward();
    F.layerNorm(x32, w32).mul(probe.to('float32')).sum().backward();
    expect(x32.grad!.dtype).toBe('float32');
    assertClose('dx', arr(x.grad!), x32.grad!, { rtol: 1e-4, atol: 1e-5 });
    assertClose('dw', arr(w.grad!), w32.grad!, { rtol: 1e-4, atol: 1e-5 });
  });
});

describe('scaledDotProductAttention', () => {
  it('gradcheck, causal with more keys than queries', () => {
    const [q, k, v] = [leaf([2, 3, 4]), leaf([2, 5, 4]), leaf([2, 5, 3])];
    gradcheck(
      (a: Tensor, b: Tensor, c: Tensor) => F.scaledDotProductAttention(a, b, c, { causal: true }),
      [q, k, v],
    );
  });

  it('first causal query attends only to the keys up to it', () => {
    const q = leaf([1, 2, 2]).detach();
    const k = leaf([1, 2, 2]).detach();
    const v = tensor(
      [
        [
          [1, 0],
          [0, 1],
        ],
      ],
      { dtype: 'float64' },
    );
    const o = F.scaledDotProductAttention(q, k, v, { causal: true }).toArray() as number[][][];
    expect(o[0][0]).toEqual([1, 0]);
  });

  it('keeps only its output alive', () => {
    const [q, k, v] = [leaf([2, 4, 3]), leaf([2, 4, 3]), leaf([2, 4, 3])];
    const before = memory().numTensors;
    const o = F.scaledDotProductAttention(q, k, v, { causal: true });
    expect(memory().numTensors).toBe(before + 1);
    o.sum().backward();
    expect(q.grad!.shape).toEqual([2, 4, 3]);
  });

  it('names bad shapes', () => {
    expect(() => F.scaledDotProductAttention(leaf([2, 3]), leaf([2, 4]), leaf([2, 3]))).toThrow(
      /q \[2, 3\] and k \[2, 4\] differ in the last dim/,
    );
    expect(() => F.scaledDotProductAttention(leaf([2, 3]), leaf([4, 3]), leaf([3, 3]))).toThrow(
      /v \[3, 3\] must have S = 4 rows/,
    );
    expect(() =>
      F.scaledDotProductAttention(leaf([3, 2]), leaf([2, 2]), leaf([2, 2]), { causal: true }),
    ).toThrow(/needs at least as many keys \(2\) as queries \(3\)/);
  });
});

describe('linear', () => {
  it('matches x W^T + b, gradchecks, and names bad shapes', () => {
    const x = leaf([2, 3, 4]);
    const w = leaf([5, 4]);
    const b = leaf([5]);
    const xs = x.toArray() as number[][][];
    const ws = w.toArray() as number[][];
    const bs = arr(b);
    const want = xs.map((m) =>
      m.map((row) => ws.map((wr, o) => wr.reduce((s, v, i) => s + v * row[i], bs[o]))),
    );
    assertClose('linear', tensor(want, { dtype: 'float64' }), F.linear(x, w, b), {
      rtol: 1e-12,
      atol: 1e-12,
    });
    gradcheck((a: Tensor, c: Tensor, d: Tensor) => F.linear(a, c, d), [x, w, b]);
    expect(() => F.linear(x, leaf([5, 3]))).toThrow(
      /weight must be \[out, 4\] for x \[2, 3, 4\], got \[5, 3\]/,
    );
    expect(() => F.linear(x, w, leaf([4]))).toThrow(/bias must be \[5\], got \[4\]/);
  });
});

describe('gradcheck over random shapes (size-1 dims, non-contiguous inputs)', () => {
  /** Seeded small integer in [lo, hi]. */
  let s = 12345;
  const int = (lo: number, hi: number): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + (s % (hi - lo + 1));
  };
  /** A leaf of `shape` read through a transpose of its last two dims (non-contiguous). */
  const strided = (shape: number[]): [Tensor, (t: Tensor) => Tensor] => {
    const sw = [...shape];
    [sw[sw.length - 1], sw[sw.length - 2]] = [sw[sw.length - 2], sw[sw.length - 1]];
    const base = leaf(sw);
    return [base, (t) => t.transpose(-1, -2)];
  };

  it.each([0, 1, 2, 3, 4, 5])('trial %i', () => {
    const rows = int(1, 3);
    const d = int(1, 4);
    const [xb, xv] = strided([rows, d]);
    const w = leaf([d], 0.3, 1);
    const b = leaf([d]);
    gradcheck((x: Tensor, a: Tensor) => F.rmsNorm(xv(x), a), [xb, w]);
    gradcheck((x: Tensor, a: Tensor, c: Tensor) => F.layerNorm(xv(x), a, c), [xb, w, b]);

    const c = int(1, 4);
    const [lb, lv] = strided([rows, c]);
    const targets = ids(Array.from({ length: rows }, () => int(0, c - 1)));
    gradcheck((l: Tensor) => F.crossEntropy(lv(l), targets, { reduction: 'sum' }), [lb]);

    const [bsz, t, ch, k] = [int(1, 2), int(1, 4), int(1, 3), int(1, 3)];
    const cx = leaf([bsz, ch, t]); // read as [B, T, C] through a transpose
    const cw = leaf([ch, k]);
    gradcheck((x: Tensor, ww: Tensor) => F.causalConv1d(x.transpose(1, 2), ww), [cx, cw]);

    const v = int(1, 4);
    const table = leaf([d, v]); // read as [V, D] through a transpose
    const lookup = ids(Array.from({ length: int(1, 5) }, () => int(0, v - 1)));
    gradcheck((wt: Tensor) => F.embedding(lookup, wt.transpose(0, 1)), [table]);
  });
});
