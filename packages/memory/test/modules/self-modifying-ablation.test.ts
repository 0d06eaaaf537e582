/**
 * SelfModifyingTitans ablation switches (the paper's Table 6): `staticGenerators` (k, v, η, α
 * never write) and `precondition: false` (plain GD, W2 ← α W2 + S2, instead of DGD's
 * W2 (α I − η k kᵀ) + S2). Checked in float64 against an independent one-token computation of
 * the removed term, 'chunked' against 'loop' (outputs, fast weights, outer gradients), finite
 * differences of the outer gradient, and the fused impl's refusal.
 */
import { describe, expect, it } from 'vitest';
import { cat, type Tensor } from '@nl/tensor';
import { SelfModifyingTitans } from '../../src/index.js';
import { maxDiff, randArr, rng, t64 } from './helpers.js';
import {
  buildSmall as build,
  D,
  DH,
  expectInitGradcheck,
  expectSameFastAndGrads,
  H,
  sig,
  silu,
  type SmallCfg as Cfg,
} from './self-mod-kit.js';

/** M(z) = z + W1 σ(W2 z) of head h, from the module's init (plain loops). */
function mlp(m: SelfModifyingTitans, name: string, h: number, z: number[]): number[] {
  const w1 = m.memories[name]!.w1.dataSync(); // [H, D, DH]
  const w2 = m.memories[name]!.w2.dataSync(); // [H, DH, D]
  const a = Array.from({ length: DH }, (_, j) =>
    silu(z.reduce((s, zi, i) => s + w2[(h * DH + j) * D + i]! * zi, 0)),
  );
  return z.map((zi, i) => zi + a.reduce((s, aj, j) => s + w1[(h * D + i) * DH + j]! * aj, 0));
}

describe('SelfModifyingTitans ablation switches', () => {
  it('precondition: false removes exactly −η (W2 k) kᵀ from the first write (one token, every memory)', () => {
    const cfg = { chunkMem: 4, chunkOther: 4, momentum: 0.9, etaBias: 1 };
    const [dgd] = build(3, cfg, ['loop']);
    const [gd] = build(3, { ...cfg, precondition: false }, ['loop']);
    const x = randArr(rng(4), H * D);
    const q = randArr(rng(5), H * D);
    for (const m of [dgd!, gd!]) m.forward(t64(x, [1, 1, H, D]), t64(q, [1, 1, H, D]));
    for (const n of dgd!.names) {
      const diff = dgd!.fast(n)!.w2.dataSync(); // [1, H, DH, D]
      const base = gd!.fast(n)!.w2.dataSync();
      const want = new Float64Array(diff.length);
      for (let h = 0; h < H; h++) {
        const xh = Array.from(x.subarray(h * D, (h + 1) * D));
        const kr = mlp(dgd!, 'k', h, xh);
        const kn = Math.hypot(...kr) + 1e-6;
        const k = kr.map((v) => v / kn);
        const mean = (v: number[]) => v.reduce((s, e) => s + e, 0) / v.length;
        const alpha = sig(mean(mlp(dgd!, 'alpha', h, xh)) + 4);
        const eta = alpha * sig(mean(mlp(dgd!, 'eta', h, xh)) + 1);
        const w2 = dgd!.memories[n]!.w2.dataSync();
        for (let j = 0; j < DH; j++) {
          const w2k = k.reduce((s, ki, i) => s + w2[(h * DH + j) * D + i]! * ki, 0);
          for (let i = 0; i < D; i++) want[(h * DH + j) * D + i] = -eta * w2k * k[i]!;
        }
      }
      expect(
        maxDiff(
          Array.from(diff, (v, i) => v - base[i]!),
          want,
        ),
        n,
      ).toBeLessThan(1e-12);
      expect(maxDiff(want, new Float64Array(want.length)), `${n} term non-zero`).toBeGreaterThan(1e-4);
      // W1 has no preconditioner: the same in both
      expect(maxDiff(dgd!.fast(n)!.w1.dataSync(), gd!.fast(n)!.w1.dataSync()), `${n}.w1`).toBe(0);
    }
  });

  it('staticGenerators: k, v, η, α keep their inits, M_mem still writes', () => {
    const [m] = build(7, { chunkMem: 3, chunkOther: 2, staticGenerators: true }, ['loop']);
    const r = rng(8);
    m!.forward(t64(randArr(r, 2 * 6 * H * D), [2, 6, H, D]), t64(randArr(r, 2 * 6 * H * D), [2, 6, H, D]));
    for (const n of ['k', 'v', 'eta', 'alpha'])
      for (const w of ['w1', 'w2'] as const) {
        const init = m!.memories[n]![w].dataSync();
        const fast = m!.fast(n)![w].dataSync(); // [B, ...] = init for every b
        expect(maxDiff(fast, [...init, ...init]), `${n}.${w}`).toBe(0);
      }
    const memInit = m!.memories.mem!.w2.dataSync();
    expect(maxDiff(m!.fast('mem')!.w2.dataSync(), [...memInit, ...memInit])).toBeGreaterThan(1e-3);
  });

  const cases: [string, Cfg][] = [
    ['staticGenerators', { chunkMem: 4, chunkOther: 3, momentum: 0.9, staticGenerators: true }],
    ['precondition false', { chunkMem: 4, chunkOther: 3, momentum: 0.9, precondition: false }],
    [
      'both, momentum 0',
      { chunkMem: 2, chunkOther: 5, momentum: 0, staticGenerators: true, precondition: false },
    ],
  ];
  for (const [name, cfg] of cases)
    it(`chunked == loop: ${name} (outputs, fast weights, outer gradients; calls cut)`, () => {
      const [loop, chunked] = build(11, cfg, ['loop', 'chunked']) as [
        SelfModifyingTitans,
        SelfModifyingTitans,
      ];
      const [B, T] = [2, 11];
      const r = rng(12);
      const x = randArr(r, B * T * H * D);
      const q = randArr(r, B * T * H * D);
      const w = t64(randArr(r, B * T * H * D), [B, T, H, D]);
      const res = [loop, chunked].map((m, i) => {
        const xt = t64(x, [B, T, H, D], true);
        const qt = t64(q, [B, T, H, D], true);
        const cut = i === 0 ? T : 5;
        const o1 = m.forward(xt.narrow(1, 0, cut), qt.narrow(1, 0, cut));
        const o =
          cut === T ? o1 : cat([o1, m.forward(xt.narrow(1, cut, T - cut), qt.narrow(1, cut, T - cut))], 1);
        let loss = o.mul(w).sum();
        for (const n of m.names) loss = loss.add(m.fast(n)!.w2.sum().mul(0.3));
        loss.backward();
        return { o: o.dataSync(), gx: xt.grad!.dataSync(), gq: qt.grad!.dataSync() };
      });
      expect(maxDiff(res[1]!.o, res[0]!.o), 'outputs').toBeLessThan(1e-12);
      expect(maxDiff(res[1]!.gx, res[0]!.gx), 'grad x').toBeLessThan(1e-11);
      expect(maxDiff(res[1]!.gq, res[0]!.gq), 'grad q').toBeLessThan(1e-11);
      expectSameFastAndGrads(chunked, loop);
    });

  it('outer gradients vs finite differences with both switches (chunked: x, mem, k, eta inits)', () => {
    const [m] = build(21, { chunkMem: 3, chunkOther: 2, staticGenerators: true, precondition: false }, [
      'chunked',
    ]);
    expectInitGradcheck(m!, [
      ['mem', 'w1'],
      ['mem', 'w2'],
      ['k', 'w2'],
      ['eta', 'w1'],
    ]);
  });

  it('memoryInitStd: per-memory, per-layer init stds (sample std of 4096 draws), errors name the memory', () => {
    const m = new SelfModifyingTitans({
      heads: 4,
      dim: 32,
      hidden: 32,
      dtype: 'float64',
      memoryInitStd: { mem: { w2: 1 }, k: { w1: 0.1, w2: 0.5 } },
    });
    const std = (t: Tensor): number => {
      const a = Array.from(t.dataSync());
      const mean = a.reduce((s, v) => s + v, 0) / a.length;
      return Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
    };
    const want: [string, 'w1' | 'w2', number][] = [
      ['mem', 'w2', 1],
      ['mem', 'w1', 0.02],
      ['k', 'w1', 0.1],
      ['k', 'w2', 0.5],
      ['v', 'w2', 0.02],
    ];
    for (const [n, w, s] of want)
      expect(Math.abs(std(m.memories[n]![w]) / s - 1), `${n}.${w}`).toBeLessThan(0.05);
    expect(() => new SelfModifyingTitans({ heads: 1, dim: 2, memoryInitStd: { q: { w1: 1 } } })).toThrow(
      /memoryInitStd names unknown memory 'q'/,
    );
    expect(() => new SelfModifyingTitans({ heads: 1, dim: 2, memoryInitStd: { k: { w2: -1 } } })).toThrow(
      /init std of k.w2 must be a finite number >= 0, got -1/,
    );
  });

  it("impl 'fused' refuses the switches, naming them", () => {
    for (const sw of [{ staticGenerators: true }, { precondition: false }])
      expect(() => new SelfModifyingTitans({ heads: 1, dim: 2, impl: 'fused', ...sw })).toThrow(
        /staticGenerators \/ precondition: false.*'fused'/,
      );
  });
});
