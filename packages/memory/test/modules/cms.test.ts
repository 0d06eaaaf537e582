/**
 * ContinuumMemory: the update schedule across calls, update values vs an independent float64
 * loop, plain-MLP behaviour of slow levels, nested re-initialization, flush, snapshot/restore,
 * freeze, outer gradient to every level's θ0, bad input.
 */
import { describe, expect, it } from 'vitest';
import { mul, type Tensor } from '@nl/tensor';
import { ContinuumMemory, setDebugChecks } from '../../src/index.js';
import { maxDiff, randArr, rng, t64 } from './helpers.js';

const D = 3,
  DH = 4;
const silu = (x: number): number => x / (1 + Math.exp(-x));
const dsilu = (x: number): number => {
  const s = 1 / (1 + Math.exp(-x));
  return s * (1 + x * (1 - s));
};

type Mat = number[][];
const mat = (a: ArrayLike<number>, r: number, c: number): Mat =>
  Array.from({ length: r }, (_, i) => Array.from({ length: c }, (_, j) => a[i * c + j]!));
const mv = (m: Mat, x: number[]) => m.map((row) => row.reduce((s, w, j) => s + w * x[j]!, 0));
const mtv = (m: Mat, x: number[]) => m[0]!.map((_, j) => m.reduce((s, row, i) => s + row[j]! * x[i]!, 0));
const mlp = (w1: Mat, w2: Mat, x: number[]) => mv(w2, mv(w1, x).map(silu)).map((y, i) => x[i]! + y);

function make(
  chunks: number[],
  variant: 'sequential' | 'independent' | 'nested' = 'sequential',
): ContinuumMemory {
  const cms = new ContinuumMemory({
    dim: D,
    hidden: DH,
    levels: chunks.map((c) => ({ chunkSize: c, lr: 0.1 })),
    variant,
    dtype: 'float64',
    initStd: 0.5,
  });
  return cms;
}

describe('ContinuumMemory', () => {
  it('each level updates exactly every C tokens across calls of any length; flush applies the rest', () => {
    const cms = make([2, 3, 10]);
    const r = rng(3);
    let total = 0;
    for (const len of [1, 4, 2, 5]) {
      cms.forward(t64(randArr(r, len * D), [1, len, D]));
      cms.observe([0, 1, 2].map(() => t64(randArr(r, len * D), [1, len, D])));
      total += len;
      expect(cms.updates).toEqual([2, 3, 10].map((c) => Math.floor(total / c)));
      expect(cms.tokens).toBe(total);
    }
    const before = cms.delta(2).w1.dataSync();
    cms.flush(); // 12 tokens: levels 0 and 1 have nothing pending, level 2 has 2
    expect(cms.updates).toEqual([6, 4, 2]);
    expect(maxDiff(cms.delta(2).w1.dataSync(), before)).toBeGreaterThan(0);
  });

  it('updates equal an independent float64 loop (2 sequential levels, segments of min C)', () => {
    const cms = make([2, 4]);
    const w = [0, 1].map((i) => ({
      w1: mat(cms.w1[i]!.dataSync(), DH, D),
      w2: mat(cms.w2[i]!.dataSync(), D, DH),
    }));
    const r = rng(5);
    const T = 8;
    const x = randArr(r, T * D);
    const err = [randArr(r, T * D), randArr(r, T * D)];
    const G = w.map((l) => ({
      g1: l.w1.map((row) => row.map(() => 0)),
      g2: l.w2.map((row) => row.map(() => 0)),
    }));
    const C = [2, 4];
    for (let s = 0; s < T; s += 2) {
      const y = cms.forward(t64(x.subarray(s * D, (s + 2) * D), [1, 2, D])).dataSync();
      cms.observe(err.map((e) => t64(e.subarray(s * D, (s + 2) * D), [1, 2, D])));
      for (let t = s; t < s + 2; t++) {
        let h = Array.from(x.subarray(t * D, (t + 1) * D));
        for (let l = 0; l < 2; l++) {
          const { w1, w2 } = w[l]!;
          const pre = mv(w1, h),
            a = pre.map(silu),
            e = Array.from(err[l]!.subarray(t * D, (t + 1) * D));
          const g = mtv(w2, e).map((z, j) => z * dsilu(pre[j]!));
          for (let i = 0; i < D; i++)
            for (let j = 0; j < DH; j++) {
              G[l]!.g2[i]![j]! += e[i]! * a[j]!;
              G[l]!.g1[j]![i]! += g[j]! * h[i]!;
            }
          h = mlp(w1, w2, h);
        }
        expect(maxDiff(y.subarray((t - s) * D, (t - s + 1) * D), h)).toBeLessThan(1e-12);
      }
      for (let l = 0; l < 2; l++) {
        if ((s + 2) % C[l]! !== 0) continue;
        for (let i = 0; i < D; i++)
          for (let j = 0; j < DH; j++) {
            w[l]!.w2[i]![j]! -= 0.1 * G[l]!.g2[i]![j]!;
            w[l]!.w1[j]![i]! -= 0.1 * G[l]!.g1[j]![i]!;
            G[l]!.g2[i]![j] = 0;
            G[l]!.g1[j]![i] = 0;
          }
      }
    }
    for (let l = 0; l < 2; l++) {
      const eff = cms.w1[l]!.dataSync().map((v, i) => v + cms.delta(l).w1.dataSync()[i]!);
      expect(maxDiff(eff, w[l]!.w1.flat())).toBeLessThan(1e-12);
    }
  });

  it('a level with C >= sequence length is a plain MLP of its θ0; outer grads reach every θ0', () => {
    const cms = make([3, 100]);
    const r = rng(7);
    const x = randArr(r, 2 * 9 * D);
    const y = cms.forward(t64(x, [2, 9, D]));
    cms.observe([t64(randArr(r, 2 * 9 * D), [2, 9, D]), t64(randArr(r, 2 * 9 * D), [2, 9, D])]);
    expect(cms.updates).toEqual([3, 0]);
    expect(maxDiff(cms.delta(1).w2.dataSync(), new Float64Array(D * DH))).toBe(0);
    const w = [0, 1].map((i) => ({
      w1: mat(cms.w1[i]!.dataSync(), DH, D),
      w2: mat(cms.w2[i]!.dataSync(), D, DH),
    }));
    const ref: number[] = [];
    for (let t = 0; t < 18; t++)
      ref.push(
        ...mlp(w[1]!.w1, w[1]!.w2, mlp(w[0]!.w1, w[0]!.w2, Array.from(x.subarray(t * D, (t + 1) * D)))),
      );
    expect(maxDiff(y.dataSync(), ref)).toBeLessThan(1e-12);
    cms
      .forward(t64(x, [2, 9, D]))
      .sum()
      .backward();
    for (const p of [...cms.w1, ...cms.w2])
      expect(maxDiff(p.grad!.dataSync(), new Float64Array(p.numel))).toBeGreaterThan(0);
  });

  it('nested: a slow level firing re-initializes faster levels; independent aggregates levels', () => {
    const cms = make([2, 4], 'nested');
    const r = rng(9);
    const feed = (len: number) => {
      cms.forward(t64(randArr(r, len * D), [1, len, D]));
      cms.observe([0, 1].map(() => t64(randArr(r, len * D), [1, len, D])));
    };
    feed(2);
    expect(maxDiff(cms.delta(0).w1.dataSync(), new Float64Array(D * DH))).toBeGreaterThan(0);
    feed(2);
    expect(cms.updates).toEqual([2, 1]);
    expect(maxDiff(cms.delta(0).w1.dataSync(), new Float64Array(D * DH))).toBe(0);
    expect(maxDiff(cms.delta(1).w1.dataSync(), new Float64Array(D * DH))).toBeGreaterThan(0);
    const ind = make([2, 4], 'independent');
    const x = randArr(r, 2 * D);
    const y = ind.forward(t64(x, [1, 2, D])).dataSync();
    const ref: number[] = [];
    for (let t = 0; t < 2; t++) {
      const xt = Array.from(x.subarray(t * D, (t + 1) * D));
      const ys = [0, 1].map((i) =>
        mlp(mat(ind.w1[i]!.dataSync(), DH, D), mat(ind.w2[i]!.dataSync(), D, DH), xt),
      );
      ref.push(...ys[0]!.map((v, i) => 0.5 * v + 0.5 * ys[1]![i]!));
    }
    expect(maxDiff(y, ref)).toBeLessThan(1e-12);
  });

  it('snapshot / restore round trip; frozen never changes; bad input', () => {
    const cms = make([2, 3]);
    const r = rng(11);
    const x = t64(randArr(r, 5 * D), [1, 5, D]);
    const errs = (): Tensor[] => [0, 1].map(() => t64(randArr(rng(12), 5 * D), [1, 5, D]));
    cms.forward(x);
    cms.observe(errs());
    const snap = cms.snapshot();
    cms.forward(x);
    cms.observe(errs());
    const a = cms.forward(x).dataSync();
    const upd = cms.updates;
    cms.restore(snap);
    cms.forward(x);
    cms.observe(errs());
    expect(maxDiff(cms.forward(x).dataSync(), a)).toBe(0);
    expect(cms.updates).toEqual(upd);
    cms.freeze();
    const d0 = cms.delta(0).w1.dataSync();
    cms.observe(errs());
    cms.flush();
    expect(maxDiff(cms.delta(0).w1.dataSync(), d0)).toBe(0);
    expect(cms.updates).toEqual(upd);
    expect(() => make([0])).toThrow(/level 0 chunk size must be a positive integer, got 0/);
    expect(() => cms.forward(t64(randArr(r, 5 * 2), [1, 5, 2]))).toThrow(/x must be \[B, T, 3\]/);
    cms.forward(x);
    expect(() => cms.observe([errs()[0]!])).toThrow(/expected 2 error tensors/);
    const bad = randArr(r, 5 * D);
    bad[1] = Number.NaN;
    cms.forward(x);
    const prev = setDebugChecks(true); // finiteness is an opt-in debug check (a host read)
    try {
      expect(() => cms.observe([t64(bad, [1, 5, D]), t64(bad, [1, 5, D])])).toThrow(/non-finite/);
    } finally {
      setDebugChecks(prev);
    }
  });

  it('observeGrads: probe gradients are the level-output errors (vs a hand-derived chain rule)', () => {
    const T = 4;
    const r = rng(17);
    const x = randArr(r, T * D);
    const w = randArr(r, T * D);
    const a = make([T, T]);
    const b = make([T, T]);
    for (let i = 0; i < 2; i++) {
      b.replaceParameter(`w1_${i}`, a.w1[i]!.detach().clone());
      b.replaceParameter(`w2_${i}`, a.w2[i]!.detach().clone());
    }
    const y = a.forward(t64(x, [1, T, D]), { probes: true });
    mul(y, t64(w, [1, T, D]))
      .sum()
      .backward();
    a.observeGrads();
    // δ1 = w; δ0 = J1ᵀ w with J1 = I + W2 diag(silu'(W1 h0)) W1, h0 = level 0's output.
    const [w10, w20, w11, w21] = [
      mat(a.w1[0]!.dataSync(), DH, D),
      mat(a.w2[0]!.dataSync(), D, DH),
      mat(a.w1[1]!.dataSync(), DH, D),
      mat(a.w2[1]!.dataSync(), D, DH),
    ];
    const d0: number[] = [];
    for (let t = 0; t < T; t++) {
      const h0 = mlp(w10, w20, Array.from(x.subarray(t * D, (t + 1) * D)));
      const pre = mv(w11, h0);
      const wt = Array.from(w.subarray(t * D, (t + 1) * D));
      const back = mtv(
        w11,
        mtv(w21, wt).map((z, j) => z * dsilu(pre[j]!)),
      );
      d0.push(...wt.map((z, i) => z + back[i]!));
    }
    b.forward(t64(x, [1, T, D]));
    b.observe([t64(Float64Array.from(d0), [1, T, D]), t64(w, [1, T, D])]);
    expect(a.updates).toEqual([1, 1]);
    for (let l = 0; l < 2; l++) {
      expect(maxDiff(a.delta(l).w1.dataSync(), b.delta(l).w1.dataSync())).toBeLessThan(1e-12);
      expect(maxDiff(a.delta(l).w2.dataSync(), b.delta(l).w2.dataSync())).toBeLessThan(1e-12);
      expect(maxDiff(a.delta(l).w2.dataSync(), new Float64Array(D * DH))).toBeGreaterThan(0);
    }
    expect(() => make([2]).observeGrads()).toThrow(/probes: true/);
  });

  it('level parameters follow to(dtype) and replaceParameter', () => {
    const cms = new ContinuumMemory({ dim: D, hidden: DH, levels: [{ chunkSize: 2 }], dtype: 'float32' });
    cms.to('float64');
    expect(cms.w1[0]!.dtype).toBe('float64');
    expect(cms.forward(t64(randArr(rng(3), 2 * D), [1, 2, D])).dtype).toBe('float64');
    const w = t64(randArr(rng(4), DH * D), [DH, D]);
    cms.replaceParameter('w1_0', w);
    expect(cms.w1[0]).toBe(w);
  });
});
