/**
 * SelfModifyingTitans vs an independent float64 loop of nested-learning.md §4 (with the
 * recommended choices), pieces == one call == token by token, outer gradients to the init of
 * every memory (non-zero, and finite differences on the k / eta / alpha generators), freeze,
 * snapshot/restore, bad input.
 */
import { describe, expect, it } from 'vitest';
import { gradcheck, type Tensor } from '@nl/tensor';
import { SelfModifyingTitans } from '../../src/index.js';
import { maxDiff, randArr, rng, sliceTokens, t64 } from './helpers.js';

const B = 2,
  T = 7,
  H = 2,
  D = 3,
  DH = 2,
  CM = 2,
  CO = 3,
  MOM = 0.9,
  AB = 1,
  EB = -1;
const NAMES = ['k', 'v', 'eta', 'alpha', 'mem'];
type Mat = number[][];
const sg = (x: number) => 1 / (1 + Math.exp(-x));
const silu = (x: number) => x * sg(x);
const dsilu = (x: number) => sg(x) * (1 + x * (1 - sg(x)));
const mv = (m: Mat, x: number[]) => m.map((r) => r.reduce((s, w, j) => s + w * x[j]!, 0));
const mtv = (m: Mat, x: number[]) => m[0]!.map((_, j) => m.reduce((s, r, i) => s + r[j]! * x[i]!, 0));
const ap = (w1: Mat, w2: Mat, z: number[]) => mv(w1, mv(w2, z).map(silu)).map((y, i) => z[i]! + y);
const cp = (m: Mat) => m.map((r) => [...r]);

function refLoop(
  x: Float64Array,
  q: Float64Array,
  init: Record<string, { w1: Float64Array; w2: Float64Array }>,
): Float64Array {
  const o = new Float64Array(B * T * H * D);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const M: Record<string, { w1: Mat; w2: Mat; s1: Mat; s2: Mat; a1: Mat; a2: Mat }> = {};
      for (const n of NAMES) {
        const w1 = Array.from({ length: D }, (_, i) =>
          Array.from({ length: DH }, (_, j) => init[n]!.w1[(h * D + i) * DH + j]!),
        );
        const w2 = Array.from({ length: DH }, (_, i) =>
          Array.from({ length: D }, (_, j) => init[n]!.w2[(h * DH + i) * D + j]!),
        );
        M[n] = {
          w1,
          w2,
          s1: w1.map((r) => r.map(() => 0)),
          s2: w2.map((r) => r.map(() => 0)),
          a1: cp(w1),
          a2: cp(w2),
        };
      }
      for (let t = 0; t < T; t++) {
        const g0 = ((b * T + t) * H + h) * D;
        for (const n of NAMES)
          if (t % (n === 'mem' ? CM : CO) === 0) [M[n]!.a1, M[n]!.a2] = [cp(M[n]!.w1), cp(M[n]!.w2)];
        const xt = Array.from(x.subarray(g0, g0 + D));
        const snap = (n: string, z: number[]) => ap(M[n]!.a1, M[n]!.a2, z);
        const kr = snap('k', xt);
        const kn = Math.hypot(...kr) + 1e-6;
        const k = kr.map((z) => z / kn);
        const v = snap('v', xt);
        const mean = (a: number[]) => a.reduce((s, z) => s + z, 0) / a.length;
        const al = sg(mean(snap('alpha', xt)) + AB);
        const et = al * sg(mean(snap('eta', xt)) + EB);
        for (const n of NAMES) {
          const m = M[n]!;
          const vh = snap(n, v);
          const p = mv(m.a2, k),
            a = p.map(silu);
          const e = mv(m.a1, a).map((z, i) => k[i]! + z - vh[i]!);
          const g = mtv(m.a1, e).map((z, j) => z * dsilu(p[j]!));
          const w2k = mv(m.w2, k);
          for (let i = 0; i < D; i++)
            for (let j = 0; j < DH; j++) {
              m.s1[i]![j] = MOM * m.s1[i]![j]! - et * e[i]! * a[j]!;
              m.w1[i]![j] = al * m.w1[i]![j]! + m.s1[i]![j]!;
              m.s2[j]![i] = MOM * m.s2[j]![i]! - et * g[j]! * k[i]!;
            }
          for (let j = 0; j < DH; j++)
            for (let i = 0; i < D; i++) m.w2[j]![i] = al * m.w2[j]![i]! - et * w2k[j]! * k[i]! + m.s2[j]![i]!;
        }
        const y = ap(M.mem!.w1, M.mem!.w2, Array.from(q.subarray(g0, g0 + D)));
        o.set(y, g0);
      }
    }
  return o;
}

function setup(seed: number) {
  const r = rng(seed);
  const mem = new SelfModifyingTitans({
    heads: H,
    dim: D,
    hidden: DH,
    chunkMem: CM,
    chunkOther: CO,
    momentum: MOM,
    alphaBias: AB,
    etaBias: EB,
    dtype: 'float64',
  });
  const init: Record<string, { w1: Float64Array; w2: Float64Array }> = {};
  for (const n of NAMES) {
    init[n] = { w1: randArr(r, H * D * DH, -0.6, 0.6), w2: randArr(r, H * DH * D, -0.6, 0.6) };
    mem.memories[n]!.replaceParameter('w1', t64(init[n]!.w1, [H, D, DH]));
    mem.memories[n]!.replaceParameter('w2', t64(init[n]!.w2, [H, DH, D]));
  }
  return { mem, init, x: randArr(r, B * T * H * D), q: randArr(r, B * T * H * D) };
}

const part = (a: Float64Array, t0: number, t1: number) =>
  t64(sliceTokens(a, B, T, H * D, t0, t1), [B, t1 - t0, H, D]);

describe('SelfModifyingTitans', () => {
  it('matches an independent float64 loop of §4 (two chunk sizes, DGD + decay + momentum)', () => {
    const { mem, init, x, q } = setup(21);
    const o = mem.forward(t64(x, [B, T, H, D]), t64(q, [B, T, H, D])).dataSync();
    expect(maxDiff(o, refLoop(x, q, init))).toBeLessThan(1e-12);
  });

  it('one call == pieces cut anywhere == token by token; snapshot/restore; frozen never changes', () => {
    const { mem, x, q } = setup(22);
    const whole = mem.forward(t64(x, [B, T, H, D]), t64(q, [B, T, H, D])).dataSync() as Float64Array;
    mem.reset();
    const a = mem.forward(part(x, 0, 4), part(q, 0, 4)).dataSync();
    const snap = mem.snapshot();
    const b = mem.forward(part(x, 4, T), part(q, 4, T)).dataSync();
    expect(maxDiff(a, sliceTokens(whole, B, T, H * D, 0, 4))).toBeLessThan(1e-13);
    expect(maxDiff(b, sliceTokens(whole, B, T, H * D, 4, T))).toBeLessThan(1e-13);
    mem.restore(snap);
    expect(maxDiff(mem.forward(part(x, 4, T), part(q, 4, T)).dataSync(), b)).toBe(0);
    mem.reset();
    for (let t = 0; t < T; t++) {
      const o = mem.forward(part(x, t, t + 1), part(q, t, t + 1)).dataSync();
      expect(maxDiff(o, sliceTokens(whole, B, T, H * D, t, t + 1))).toBeLessThan(1e-13);
    }
    const before = mem.fast('mem')!.w1.dataSync();
    mem.freeze();
    mem.forward(t64(x, [B, T, H, D]), t64(q, [B, T, H, D]));
    expect(maxDiff(mem.fast('mem')!.w1.dataSync(), before)).toBe(0);
    expect(mem.tokens).toBe(T);
  });

  it('outer gradient reaches the init of every memory; k, eta, alpha generators vs finite differences', () => {
    const { mem, x, q } = setup(23);
    mem
      .forward(t64(x, [B, T, H, D]), t64(q, [B, T, H, D]))
      .sum()
      .backward();
    for (const n of NAMES) {
      for (const p of [mem.memories[n]!.w1, mem.memories[n]!.w2]) {
        expect(maxDiff(p.grad!.dataSync(), new Float64Array(p.numel)), n).toBeGreaterThan(0);
      }
    }
    const xs = t64(x, [B, T, H, D]).narrow(1, 0, 4).contiguous();
    const qs = t64(q, [B, T, H, D]).narrow(1, 0, 4).contiguous();
    const fn = (k1: Tensor, k2: Tensor, e2: Tensor, a1: Tensor): Tensor => {
      mem.memories.k!.replaceParameter('w1', k1);
      mem.memories.k!.replaceParameter('w2', k2);
      mem.memories.eta!.replaceParameter('w2', e2);
      mem.memories.alpha!.replaceParameter('w1', a1);
      mem.reset();
      return mem.forward(xs, qs);
    };
    const m = mem.memories;
    const ins = [m.k!.w1, m.k!.w2, m.eta!.w2, m.alpha!.w1].map((p) =>
      t64(p.dataSync() as Float64Array, [...p.shape]),
    );
    expect(gradcheck(fn, ins, { atol: 1e-7, rtol: 1e-5 }).checked).toBe(ins.reduce((s, t) => s + t.numel, 0));
  });

  it('rejects bad input', () => {
    expect(() => new SelfModifyingTitans({ heads: 1, dim: 2, chunkMem: 0 })).toThrow(
      /chunk size must be a positive integer, got 0/,
    );
    const { mem, x, q } = setup(24);
    expect(() => mem.forward(t64(x, [B, T, D, H]), t64(q, [B, T, H, D]))).toThrow(/x must be \[B, T, 2, 3\]/);
    expect(() => mem.forward(t64(x, [B, T, H, D]), part(q, 0, 2))).toThrow(/differs from x/);
  });
});
