/**
 * SelfModifyingTitans' separate value input (`forward(x, q, { xv })`): the v generator reads xv,
 * v = M_v,ξ(xv), while k, η, α keep x. Checked in float64 against an independent one-token
 * computation of M_mem's first write, 'chunked' against 'loop' across segment boundaries and a
 * call cut (outputs, fast weights, outer gradients), finite differences of the outer gradient
 * w.r.t. xv, and the shape refusal. (impl 'fused' with xv: self-modifying-value-input-fused.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { cat, gradcheck, type Tensor } from '@nl/tensor';
import { SelfModifyingTitans } from '../../src/index.js';
import { maxDiff, randArr, rng, t64 } from './helpers.js';
import {
  buildSmall as build,
  D,
  DH,
  expectSameFastAndGrads,
  H,
  sig,
  silu,
  type SmallCfg as Cfg,
} from './self-mod-kit.js';

const mean = (v: number[]): number => v.reduce((s, e) => s + e, 0) / v.length;

/** Head h's layers of memory `name` as plain arrays: w1 [D][DH], w2 [DH][D]. */
function layers(m: SelfModifyingTitans, name: string, h: number): { w1: number[][]; w2: number[][] } {
  const a1 = m.memories[name]!.w1.dataSync(); // [H, D, DH]
  const a2 = m.memories[name]!.w2.dataSync(); // [H, DH, D]
  return {
    w1: Array.from({ length: D }, (_, i) => Array.from({ length: DH }, (_, j) => a1[(h * D + i) * DH + j]!)),
    w2: Array.from({ length: DH }, (_, j) => Array.from({ length: D }, (_, i) => a2[(h * DH + j) * D + i]!)),
  };
}

/** M(z) = z + W1 σ(W2 z) of head h from the module's init; also returns the features σ(W2 z). */
function mlp(m: SelfModifyingTitans, name: string, h: number, z: number[]): { out: number[]; act: number[] } {
  const { w1, w2 } = layers(m, name, h);
  const act = w2.map((row) => silu(row.reduce((s, w, i) => s + w * z[i]!, 0)));
  return { out: z.map((zi, i) => zi + w1[i]!.reduce((s, w, j) => s + w * act[j]!, 0)), act };
}

describe('SelfModifyingTitans separate value input (xv)', () => {
  it("one token: M_mem's first W1 write uses v = M_v(xv) and k, α, η from x (independent loops)", () => {
    const cfg = { chunkMem: 4, chunkOther: 4, momentum: 0.9, etaBias: 1 };
    for (const impl of ['loop', 'chunked'] as const) {
      const [m] = build(3, cfg, [impl]);
      const r = rng(4);
      const [x, q, xv] = [randArr(r, H * D), randArr(r, H * D), randArr(r, H * D)];
      m!.forward(t64(x, [1, 1, H, D]), t64(q, [1, 1, H, D]), { xv: t64(xv, [1, 1, H, D]) });
      const got = m!.fast('mem')!.w1.dataSync(); // [1, H, D, DH]
      const want = new Float64Array(got.length);
      for (let h = 0; h < H; h++) {
        const xh = Array.from(x.subarray(h * D, (h + 1) * D));
        const kr = mlp(m!, 'k', h, xh).out;
        const kn = Math.hypot(...kr) + 1e-6;
        const k = kr.map((v) => v / kn);
        const v = mlp(m!, 'v', h, Array.from(xv.subarray(h * D, (h + 1) * D))).out;
        const alpha = sig(mean(mlp(m!, 'alpha', h, xh).out) + 4);
        const eta = alpha * sig(mean(mlp(m!, 'eta', h, xh).out) + 1);
        const mk = mlp(m!, 'mem', h, k);
        const target = mlp(m!, 'mem', h, v).out; // v̂ = M_mem(v)
        const e = mk.out.map((o, i) => o - target[i]!);
        const { w1 } = layers(m!, 'mem', h);
        // W1 ← α W1 + S1, S1 = β·0 − η e aᵀ
        for (let i = 0; i < D; i++)
          for (let j = 0; j < DH; j++)
            want[(h * D + i) * DH + j] = alpha * w1[i]![j]! - eta * e[i]! * mk.act[j]!;
      }
      expect(maxDiff(got, want), impl).toBeLessThan(1e-12);
    }
  });

  it('xv = x gives exactly the model without xv; another xv changes the output', () => {
    const [a, b, c] = build(5, { chunkMem: 3, chunkOther: 2 }, ['chunked', 'chunked', 'chunked']);
    const r = rng(6);
    const x = t64(randArr(r, 7 * H * D), [1, 7, H, D]);
    const q = t64(randArr(r, 7 * H * D), [1, 7, H, D]);
    const base = a!.forward(x, q).dataSync();
    expect(maxDiff(b!.forward(x, q, { xv: x }).dataSync(), base)).toBe(0);
    const other = c!.forward(x, q, { xv: t64(randArr(r, 7 * H * D), [1, 7, H, D]) }).dataSync();
    expect(maxDiff(other, base)).toBeGreaterThan(1e-3);
  });

  const cases: [string, Cfg][] = [
    ['momentum 0.9', { chunkMem: 4, chunkOther: 3, momentum: 0.9 }],
    ['momentum 0, plain GD', { chunkMem: 2, chunkOther: 5, momentum: 0, precondition: false }],
  ];
  for (const [name, cfg] of cases)
    it(`chunked == loop with xv: ${name} (outputs, fast weights, outer gradients; call cut, carried state)`, () => {
      const [loop, chunked] = build(11, cfg, ['loop', 'chunked']) as [
        SelfModifyingTitans,
        SelfModifyingTitans,
      ];
      const [B, T, cut] = [2, 11, 5];
      const r = rng(12);
      const [x, q, xv] = [0, 1, 2].map(() => randArr(r, B * T * H * D));
      const w = t64(randArr(r, B * T * H * D), [B, T, H, D]);
      const res = [loop, chunked].map((m) => {
        const [xt, qt, vt] = [x, q, xv].map((a) => t64(a!, [B, T, H, D], true)) as [Tensor, Tensor, Tensor];
        const part = (t0: number, n: number): Tensor =>
          m.forward(xt.narrow(1, t0, n), qt.narrow(1, t0, n), { xv: vt.narrow(1, t0, n) });
        const o = cat([part(0, cut), part(cut, T - cut)], 1);
        let loss = o.mul(w).sum();
        for (const n of m.names) loss = loss.add(m.fast(n)!.w2.sum().mul(0.3));
        loss.backward();
        return { o: o.dataSync(), gx: xt.grad!.dataSync(), gq: qt.grad!.dataSync(), gv: vt.grad!.dataSync() };
      });
      expect(maxDiff(res[1]!.o, res[0]!.o), 'outputs').toBeLessThan(1e-12);
      for (const g of ['gx', 'gq', 'gv'] as const) {
        expect(maxDiff(res[1]![g], res[0]![g]), g).toBeLessThan(1e-11);
        expect(maxDiff(res[0]![g], new Float64Array(res[0]![g].length)), `${g} non-zero`).toBeGreaterThan(
          1e-6,
        );
      }
      expectSameFastAndGrads(chunked, loop);
    });

  for (const impl of ['loop', 'chunked'] as const)
    it(`${impl}: outer gradient w.r.t. xv, x and M_v's init vs finite differences (two calls)`, () => {
      const [m] = build(21, { chunkMem: 3, chunkOther: 2 }, [impl]);
      const r = rng(22);
      const q = t64(randArr(r, 5 * H * D), [1, 5, H, D]);
      const fn = (xv: Tensor, x: Tensor, vw2: Tensor): Tensor => {
        m!.memories.v!.replaceParameter('w2', vw2);
        m!.reset();
        const o1 = m!.forward(x.narrow(1, 0, 2), q.narrow(1, 0, 2), { xv: xv.narrow(1, 0, 2) });
        const o2 = m!.forward(x.narrow(1, 2, 3), q.narrow(1, 2, 3), { xv: xv.narrow(1, 2, 3) });
        return cat([o1, o2], 1);
      };
      const ins = [
        t64(randArr(r, 5 * H * D), [1, 5, H, D]),
        t64(randArr(r, 5 * H * D), [1, 5, H, D]),
        t64(m!.memories.v!.w2.dataSync() as Float64Array, [H, DH, D]),
      ];
      expect(gradcheck(fn, ins, { atol: 1e-7, rtol: 1e-5 }).checked).toBe(
        ins.reduce((s, t) => s + t.numel, 0),
      );
    });

  it("refuses an xv whose shape differs from x's", () => {
    const [m] = build(1, {}, ['chunked']);
    const x = t64(new Float64Array(3 * H * D), [1, 3, H, D]);
    expect(() => m!.forward(x, x, { xv: t64(new Float64Array(2 * H * D), [1, 2, H, D]) })).toThrow(
      /xv \[B, T\] = \[1, 2\] differs from x's \[1, 3\]/,
    );
  });
});
