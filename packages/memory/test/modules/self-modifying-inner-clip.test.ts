/**
 * SelfModifyingTitans inner-gradient clipping (`innerGradClip`, self-modifying-clip.ts): each
 * token's inner gradient (e aᵀ, g kᵀ) of each memory scaled to a Frobenius norm ≤ c. Checked in
 * float64 against an independent one-token computation, 'chunked' against 'loop' (outputs, fast
 * weights, outer gradients), finite differences through the clip, the linear growth bound
 * ‖W_t‖_F ≤ ‖W_0‖_F + t c / (1 − β) that the clip guarantees (and that an unclipped run breaks),
 * and the errors. (impl 'fused' with the clip: self-modifying-inner-clip-fused.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { cat, type Tensor } from '@nl/tensor';
import { SelfModifyingTitans, type SelfModifyingConfig } from '../../src/index.js';
import { maxDiff, randArr, rng, t64 } from './helpers.js';
import {
  buildSmall as build,
  D,
  DH,
  dsilu,
  expectInitGradcheck,
  expectSameFastAndGrads,
  H,
  sig,
  silu,
  type SmallCfg as Cfg,
} from './self-mod-kit.js';
const dot = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + v * b[i]!, 0);

/** Head h's init weights of memory `name` as row-major arrays (w1 [D][DH], w2 [DH][D]). */
function weights(m: SelfModifyingTitans, name: string, h: number): { w1: number[][]; w2: number[][] } {
  const w1 = m.memories[name]!.w1.dataSync();
  const w2 = m.memories[name]!.w2.dataSync();
  return {
    w1: Array.from({ length: D }, (_, i) => Array.from({ length: DH }, (_, j) => w1[(h * D + i) * DH + j]!)),
    w2: Array.from({ length: DH }, (_, j) => Array.from({ length: D }, (_, i) => w2[(h * DH + j) * D + i]!)),
  };
}

/** M(z) = z + W1 σ(W2 z) with plain loops. */
function mlp(w: { w1: number[][]; w2: number[][] }, z: number[]): number[] {
  const a = w.w2.map((row) => silu(dot(row, z)));
  return z.map((zi, i) => zi + dot(w.w1[i]!, a));
}

describe('SelfModifyingTitans innerGradClip', () => {
  it('first write = α W − η s ∇ with s = c / max(‖(e aᵀ, g kᵀ)‖_F, c), from plain loops (every memory)', () => {
    const clip = 0.05;
    const cfg = { chunkMem: 4, chunkOther: 4, momentum: 0.9, etaBias: 1, innerGradClip: clip };
    const [m] = build(3, cfg, ['loop']);
    const x = randArr(rng(4), H * D);
    const q = randArr(rng(5), H * D);
    m!.forward(t64(x, [1, 1, H, D]), t64(q, [1, 1, H, D]));
    let clipped = 0;
    for (const n of m!.names) {
      const got1 = m!.fast(n)!.w1.dataSync(); // [1, H, D, DH]
      const got2 = m!.fast(n)!.w2.dataSync(); // [1, H, DH, D]
      const want1 = new Float64Array(got1.length);
      const want2 = new Float64Array(got2.length);
      for (let h = 0; h < H; h++) {
        const xh = Array.from(x.subarray(h * D, (h + 1) * D));
        const kr = mlp(weights(m!, 'k', h), xh);
        const kn = Math.hypot(...kr) + 1e-6;
        const k = kr.map((v) => v / kn);
        const v = mlp(weights(m!, 'v', h), xh);
        const mean = (u: number[]) => u.reduce((s, e) => s + e, 0) / u.length;
        const alpha = sig(mean(mlp(weights(m!, 'alpha', h), xh)) + 4);
        const eta = alpha * sig(mean(mlp(weights(m!, 'eta', h), xh)) + 1);
        const w = weights(m!, n, h);
        const p = w.w2.map((row) => dot(row, k));
        const a = p.map(silu);
        const target = mlp(w, v);
        const e = k.map((ki, i) => ki + dot(w.w1[i]!, a) - target[i]!);
        const g = p.map((pj, j) => dsilu(pj) * e.reduce((s, ei, i) => s + ei * w.w1[i]![j]!, 0));
        const norm = Math.sqrt(dot(e, e) * dot(a, a) + dot(g, g) * dot(k, k));
        const s = clip / Math.max(norm, clip);
        if (s < 0.9) clipped++;
        for (let i = 0; i < D; i++)
          for (let j = 0; j < DH; j++) {
            want1[(h * D + i) * DH + j] = alpha * w.w1[i]![j]! - eta * s * e[i]! * a[j]!;
            // W2 (αI − η k kᵀ) − η s g kᵀ
            const w2k = dot(w.w2[j]!, k);
            want2[(h * DH + j) * D + i] = alpha * w.w2[j]![i]! - eta * w2k * k[i]! - eta * s * g[j]! * k[i]!;
          }
      }
      expect(maxDiff(got1, want1), `${n}.w1`).toBeLessThan(1e-12);
      expect(maxDiff(got2, want2), `${n}.w2`).toBeLessThan(1e-12);
    }
    expect(clipped, 'heads × memories whose gradient was clipped').toBeGreaterThan(4);
  });

  it('a clip above every gradient norm changes nothing; 0 is off', () => {
    const cfg = { chunkMem: 3, chunkOther: 2, momentum: 0.9 };
    const [off, big, zero] = [{}, { innerGradClip: 1e9 }, { innerGradClip: 0 }].map(
      (c) => build(7, { ...cfg, ...c }, ['chunked'])[0]!,
    );
    const r = rng(8);
    const x = randArr(r, 2 * 7 * H * D);
    const q = randArr(r, 2 * 7 * H * D);
    const outs = [off!, big!, zero!].map((m) =>
      m.forward(t64(x, [2, 7, H, D]), t64(q, [2, 7, H, D])).dataSync(),
    );
    expect(maxDiff(outs[1]!, outs[0]!)).toBe(0);
    expect(maxDiff(outs[2]!, outs[0]!)).toBe(0);
  });

  const cases: [string, Cfg, boolean][] = [
    ['momentum 0.9', { chunkMem: 4, chunkOther: 3, momentum: 0.9, innerGradClip: 0.1 }, false],
    ['momentum 0, value input', { chunkMem: 2, chunkOther: 5, momentum: 0, innerGradClip: 0.05 }, true],
    [
      'with the ablation switches',
      {
        chunkMem: 5,
        chunkOther: 2,
        momentum: 0.5,
        innerGradClip: 0.1,
        precondition: false,
        staticGenerators: true,
      },
      false,
    ],
  ];
  for (const [name, cfg, withXv] of cases)
    it(`chunked == loop: ${name} (outputs, fast weights, outer gradients; calls cut; the clip acts)`, () => {
      const [loop, chunked, unclipped] = [
        ...build(11, cfg, ['loop', 'chunked']),
        ...build(11, { ...cfg, innerGradClip: 0 }, ['chunked']),
      ] as [SelfModifyingTitans, SelfModifyingTitans, SelfModifyingTitans];
      const [B, T] = [2, 11];
      const r = rng(12);
      const x = randArr(r, B * T * H * D);
      const q = randArr(r, B * T * H * D);
      const xv = randArr(r, B * T * H * D);
      const w = t64(randArr(r, B * T * H * D), [B, T, H, D]);
      const res = [loop, chunked, unclipped].map((m, i) => {
        const xt = t64(x, [B, T, H, D], true);
        const qt = t64(q, [B, T, H, D], true);
        const vt = t64(xv, [B, T, H, D], true);
        const cut = i === 0 ? T : 5;
        const call = (t0: number, len: number): Tensor =>
          m.forward(
            xt.narrow(1, t0, len),
            qt.narrow(1, t0, len),
            withXv ? { xv: vt.narrow(1, t0, len) } : {},
          );
        const o = cut === T ? call(0, T) : cat([call(0, cut), call(cut, T - cut)], 1);
        let loss = o.mul(w).sum();
        for (const n of m.names) loss = loss.add(m.fast(n)!.w2.sum().mul(0.3));
        loss.backward();
        return { o: o.dataSync(), gx: xt.grad!.dataSync(), gq: qt.grad!.dataSync(), gv: vt.grad?.dataSync() };
      });
      expect(maxDiff(res[1]!.o, res[0]!.o), 'outputs').toBeLessThan(1e-12);
      expect(maxDiff(res[1]!.gx, res[0]!.gx), 'grad x').toBeLessThan(1e-11);
      expect(maxDiff(res[1]!.gq, res[0]!.gq), 'grad q').toBeLessThan(1e-11);
      if (withXv) expect(maxDiff(res[1]!.gv!, res[0]!.gv!), 'grad xv').toBeLessThan(1e-11);
      expect(maxDiff(res[2]!.o, res[0]!.o), 'the clip changes the outputs').toBeGreaterThan(1e-3);
      expectSameFastAndGrads(chunked, loop);
    });

  it('outer gradients through the clip vs finite differences (chunked: x, mem, k, v inits)', () => {
    const [m] = build(21, { chunkMem: 3, chunkOther: 2, innerGradClip: 0.08 }, ['chunked']);
    expectInitGradcheck(m!, [
      ['mem', 'w1'],
      ['mem', 'w2'],
      ['k', 'w2'],
      ['v', 'w1'],
    ]);
  });

  it('bounds the fast weights: ‖W_T‖_F ≤ ‖W_0‖_F + T c / (1 − β) per head; unclipped, a live init breaks it', () => {
    const [h, d, dh, T, beta, c] = [2, 8, 16, 96, 0.9, 0.5];
    const live = { w1: 0.3, w2: 1.5 };
    const cfg: SelfModifyingConfig = {
      heads: h,
      dim: d,
      hidden: dh,
      chunkMem: 16,
      chunkOther: 16,
      momentum: beta,
      etaBias: 0,
      impl: 'chunked',
      dtype: 'float64',
      memoryInitStd: { k: live, v: live, eta: live, alpha: live, mem: live },
    };
    const r = rng(31);
    const x = randArr(r, T * h * d);
    const xv = randArr(r, T * h * d);
    const q = randArr(r, T * h * d);
    const frob = (a: ArrayLike<number>, head: number, size: number): number => {
      let s = 0;
      for (let i = head * size; i < (head + 1) * size; i++) s += a[i]! ** 2;
      return Math.sqrt(s);
    };
    /** Largest ‖W_T‖_F − ‖W_0‖_F − T c / (1 − β) over memories, layers and heads (≤ 0: bound holds). */
    const excess = (clip: number): number => {
      const m = new SelfModifyingTitans({ ...cfg, innerGradClip: clip });
      m.forward(t64(x, [1, T, h, d]), t64(q, [1, T, h, d]), { xv: t64(xv, [1, T, h, d]) });
      let worst = -Infinity;
      for (const n of m.names)
        for (const w of ['w1', 'w2'] as const) {
          const w0 = m.memories[n]![w].dataSync();
          const wt = m.fast(n)![w].dataSync();
          for (let head = 0; head < h; head++) {
            const e = frob(wt, head, d * dh) - frob(w0, head, d * dh) - (T * c) / (1 - beta);
            worst = Math.max(worst, Number.isNaN(e) ? Infinity : e);
          }
        }
      return worst;
    };
    expect(excess(c), 'clipped').toBeLessThanOrEqual(0);
    expect(excess(0), 'unclipped (no bound)').toBeGreaterThan(0);
  });

  it("errors: a bad value is refused by name (impl 'fused' takes a clip: self-modifying-inner-clip-fused.test.ts)", () => {
    for (const bad of [-1, Number.NaN, Infinity])
      for (const impl of ['loop', 'fused'] as const)
        expect(() => new SelfModifyingTitans({ heads: 1, dim: 2, impl, innerGradClip: bad })).toThrow(
          /innerGradClip must be a finite number >= 0/,
        );
    const m = new SelfModifyingTitans({ heads: 1, dim: 2, impl: 'fused', innerGradClip: 1 });
    expect(m.impl).toBe('fused');
  });
});
