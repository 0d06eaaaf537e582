/**
 * TitansMemory: chunk size 1 == online GD by an independent float64 loop; chunked == the kernels'
 * float64 reference with the same chunk size; one call == pieces (cut anywhere) == token by token;
 * outer gradient to W1/W2 init, k, v, q and the θ, η, α gates vs finite differences; bad input.
 */
import { describe, expect, it } from 'vitest';
import { gradcheck, type Tensor } from '@nl/tensor';
import { setDebugChecks, TitansMemory, titansMlpReference } from '../../src/index.js';
import { maxDiff, randArr, rng, sliceTokens, t64 } from './helpers.js';

const B = 2,
  T = 7,
  H = 2,
  D = 3,
  DH = 4;
const sig = (x: number): number => 1 / (1 + Math.exp(-x));
const silu = (x: number): number => x * sig(x);
const dsilu = (x: number): number => sig(x) * (1 + x * (1 - sig(x)));

/** Literal online / mini-batch GD on plain arrays (the spec's equations, one (b, h) at a time). */
function refLoop(d: ReturnType<typeof data>, C: number): Float64Array {
  const o = new Float64Array(B * T * H * D);
  const mat = (src: Float64Array, off: number, r: number, c: number) =>
    Array.from({ length: r }, (_, i) => Array.from({ length: c }, (_, j) => src[off + i * c + j]!));
  const mv = (m: number[][], x: number[]) => m.map((row) => row.reduce((s, w, j) => s + w * x[j]!, 0));
  const mtv = (m: number[][], x: number[]) =>
    m[0]!.map((_, j) => m.reduce((s, row, i) => s + row[j]! * x[i]!, 0));
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const W1 = mat(d.w1, h * D * DH, D, DH),
        W2 = mat(d.w2, h * DH * D, DH, D);
      const S1 = W1.map((r) => r.map(() => 0)),
        S2 = W2.map((r) => r.map(() => 0));
      let A1 = W1.map((r) => [...r]),
        A2 = W2.map((r) => [...r]);
      for (let t = 0; t < T; t++) {
        const g = (b * T + t) * H + h;
        if (t % C === 0) [A1, A2] = [W1.map((r) => [...r]), W2.map((r) => [...r])];
        const k = Array.from({ length: D }, (_, i) => d.k[g * D + i]!);
        const p = mv(A2, k),
          a = p.map(silu);
        const e = mv(A1, a).map((x, i) => k[i]! + x - d.v[g * D + i]!);
        const gh = mtv(A1, e).map((x, j) => x * dsilu(p[j]!));
        const [th, et, al] = [d.theta[g]!, d.eta[g]!, d.alpha[g]!];
        for (let i = 0; i < D; i++)
          for (let j = 0; j < DH; j++) {
            S1[i]![j] = et * S1[i]![j]! - th * e[i]! * a[j]!;
            W1[i]![j] = (1 - al) * W1[i]![j]! + S1[i]![j]!;
            S2[j]![i] = et * S2[j]![i]! - th * gh[j]! * k[i]!;
            W2[j]![i] = (1 - al) * W2[j]![i]! + S2[j]![i]!;
          }
        const q = Array.from({ length: D }, (_, i) => d.q[g * D + i]!);
        const y = mv(W1, mv(W2, q).map(silu));
        for (let i = 0; i < D; i++) o[g * D + i] = q[i]! + y[i]!;
      }
    }
  return o;
}

function data(seed: number) {
  const r = rng(seed);
  const n = B * T * H * D,
    g = B * T * H;
  const d = {
    q: randArr(r, n),
    k: randArr(r, n),
    v: randArr(r, n),
    theta: randArr(r, g, 0.05, 0.5),
    eta: randArr(r, g, 0, 0.9),
    alpha: randArr(r, g, 0, 0.2),
    w1: randArr(r, H * D * DH, -0.5, 0.5),
    w2: randArr(r, H * DH * D, -0.5, 0.5),
  };
  d.alpha[1] = 1; // full forget at one token
  d.eta[2] = 0;
  return d;
}

function make(d: ReturnType<typeof data>, chunkSize: number): TitansMemory {
  const mem = new TitansMemory({ heads: H, dk: D, dv: D, hidden: DH, chunkSize, dtype: 'float64' });
  mem.replaceParameter('w1', t64(d.w1, [H, D, DH]));
  mem.replaceParameter('w2', t64(d.w2, [H, DH, D]));
  return mem;
}

function fwd(mem: TitansMemory, d: ReturnType<typeof data>, t0: number, t1: number): Tensor {
  const L = t1 - t0;
  const s = (a: Float64Array, inner: number, shape: number[]) =>
    t64(sliceTokens(a, B, T, inner, t0, t1), shape);
  return mem.forward(s(d.q, H * D, [B, L, H, D]), s(d.k, H * D, [B, L, H, D]), s(d.v, H * D, [B, L, H, D]), {
    theta: s(d.theta, H, [B, L, H]),
    eta: s(d.eta, H, [B, L, H]),
    alpha: s(d.alpha, H, [B, L, H]),
  });
}

describe('TitansMemory', () => {
  it('chunk size 1 equals online gradient descent (independent float64 loop)', () => {
    const d = data(11);
    expect(maxDiff(fwd(make(d, 1), d, 0, T).dataSync(), refLoop(d, 1))).toBeLessThan(1e-12);
  });

  it('chunk size 3 (T not a multiple): gradients at the chunk-start state, == loop and kernels reference', () => {
    const d = data(12);
    const o = fwd(make(d, 3), d, 0, T).dataSync();
    expect(maxDiff(o, refLoop(d, 3))).toBeLessThan(1e-12);
    const expandB = (a: Float64Array) =>
      Float64Array.from({ length: B * a.length }, (_, i) => a[i % a.length]!);
    const ref = titansMlpReference(
      {
        ...d,
        w1: expandB(d.w1),
        w2: expandB(d.w2),
        shape: { batch: B, seqLen: T, heads: H, dk: D, dv: D },
        hidden: DH,
      },
      { chunkSize: 3 },
    );
    expect(maxDiff(o, ref.o)).toBeLessThan(1e-12);
    expect(maxDiff(o, refLoop(d, 1))).toBeGreaterThan(1e-6); // the chunk size is a hyperparameter
  });

  it('one call == pieces cut anywhere (state and chunk position carried) == token by token', () => {
    const d = data(13);
    const whole = fwd(make(d, 3), d, 0, T).dataSync() as Float64Array;
    const m2 = make(d, 3);
    const a = fwd(m2, d, 0, 2).dataSync() as Float64Array;
    const b = fwd(m2, d, 2, T).dataSync() as Float64Array;
    expect(maxDiff(a, sliceTokens(whole, B, T, H * D, 0, 2))).toBeLessThan(1e-13);
    expect(maxDiff(b, sliceTokens(whole, B, T, H * D, 2, T))).toBeLessThan(1e-13);
    const m3 = make(d, 3);
    for (let t = 0; t < T; t++) {
      const o = fwd(m3, d, t, t + 1).dataSync();
      expect(maxDiff(o, sliceTokens(whole, B, T, H * D, t, t + 1))).toBeLessThan(1e-13);
    }
    const snap = m3.snapshot();
    const next = fwd(m3, d, 0, 2).dataSync();
    m3.restore(snap);
    expect(maxDiff(fwd(m3, d, 0, 2).dataSync(), next)).toBe(0);
  });

  it('outer gradient reaches W1/W2 init, q, k, v and θ, η, α (finite differences)', () => {
    const d = data(14);
    const mem = make(d, 2);
    const fn = (
      w1: Tensor,
      w2: Tensor,
      q: Tensor,
      k: Tensor,
      v: Tensor,
      th: Tensor,
      et: Tensor,
      al: Tensor,
    ): Tensor => {
      mem.replaceParameter('w1', w1);
      mem.replaceParameter('w2', w2);
      mem.reset();
      return mem.forward(q, k, v, { theta: th, eta: et, alpha: al });
    };
    const ins = [
      t64(d.w1, [H, D, DH]),
      t64(d.w2, [H, DH, D]),
      t64(d.q, [B, T, H, D]),
      t64(d.k, [B, T, H, D]),
      t64(d.v, [B, T, H, D]),
      t64(d.theta, [B, T, H]),
      t64(d.eta, [B, T, H]),
      t64(d.alpha, [B, T, H]),
    ];
    const res = gradcheck(fn, ins, { atol: 1e-7, rtol: 1e-5 });
    expect(res.checked).toBe(ins.reduce((s, x) => s + x.numel, 0));
    const grads = ins.map((x) => t64(x.dataSync() as Float64Array, [...x.shape], true));
    fn(...(grads as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]))
      .sum()
      .backward();
    for (const g of grads) expect(maxDiff(g.grad!.dataSync(), new Float64Array(g.numel))).toBeGreaterThan(0);
  });

  it('frozen memory never changes; bad input errors', () => {
    const d = data(15);
    const mem = make(d, 2);
    fwd(mem, d, 0, 3);
    const w1 = mem.state!.w1!.dataSync();
    mem.freeze();
    fwd(mem, d, 3, T);
    expect(maxDiff(mem.state!.w1!.dataSync(), w1)).toBe(0);
    expect(mem.tokens).toBe(3);
    expect(() => new TitansMemory({ heads: 1, dk: 3, dv: 2 })).toThrow(/dk \(3\) must equal dv \(2\)/);
    expect(() => new TitansMemory({ heads: 1, dk: 3, dv: 3, chunkSize: 0 })).toThrow(
      /chunk size must be a positive integer, got 0/,
    );
    const bad = Float64Array.from(d.theta);
    bad[0] = Number.POSITIVE_INFINITY;
    const m2 = make(d, 2);
    const prev = setDebugChecks(true); // finiteness is an opt-in debug check (a host read)
    try {
      expect(() =>
        m2.forward(t64(d.q, [B, T, H, D]), t64(d.k, [B, T, H, D]), t64(d.v, [B, T, H, D]), {
          theta: t64(bad, [B, T, H]),
        }),
      ).toThrow(/gate theta has a non-finite value/);
    } finally {
      setDebugChecks(prev);
    }
    expect(() => m2.forward(t64(d.q, [B, T, H, D]), t64(d.k, [B, T, H, D]), t64(d.v, [B, T, D, H]))).toThrow(
      /v must be/,
    );
  });
});
