/**
 * SelfModifyingTitans impl 'chunked' vs the token loop (impl 'loop', itself tested against an
 * independent float64 loop) given the same parameters, in float64: outputs, carried fast weights
 * of every memory, gradients of x, q and every memory's init w1 / w2; odd T, T shorter than and
 * not a multiple of the chunks, chunkMem ≠ chunkOther, chunk 1, momentum 0 / 0.9, both read
 * orders, adaptiveQ, calls cut anywhere, frozen reads; finite differences of the outer gradient;
 * float32 against the loop.
 */
import { describe, expect, it } from 'vitest';
import { cat, gradcheck, manualSeed, mul, randn, type Tensor } from '@nl/tensor';
import { SelfModifyingTitans, type SelfModifyingConfig } from '../../src/index.js';
import { maxDiff, randArr, rng, t64 } from './helpers.js';

const H = 2,
  D = 4,
  DH = 3;

type Cfg = Omit<SelfModifyingConfig, 'heads' | 'dim' | 'impl'>;

function pair(seed: number, cfg: Cfg) {
  const r = rng(seed);
  const mk = (impl: 'loop' | 'chunked') =>
    new SelfModifyingTitans({ heads: H, dim: D, hidden: DH, dtype: 'float64', ...cfg, impl });
  const loop = mk('loop');
  const chunked = mk('chunked');
  for (const n of loop.names) {
    const w1 = randArr(r, H * D * DH, -0.6, 0.6);
    const w2 = randArr(r, H * DH * D, -0.6, 0.6);
    for (const m of [loop, chunked]) {
      m.memories[n]!.replaceParameter('w1', t64(w1, [H, D, DH]));
      m.memories[n]!.replaceParameter('w2', t64(w2, [H, DH, D]));
    }
  }
  return { loop, chunked, r };
}

/** Runs `m` on x, q [B, T, H, D] cut at `cuts`; returns outputs and the input tensors. */
function run(m: SelfModifyingTitans, x: Float64Array, q: Float64Array, B: number, T: number, cuts: number[]) {
  const xt = t64(x, [B, T, H, D], true);
  const qt = t64(q, [B, T, H, D], true);
  const bounds = [0, ...cuts, T];
  const outs: Tensor[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const [a, b] = [bounds[i]!, bounds[i + 1]!];
    outs.push(m.forward(xt.narrow(1, a, b - a), qt.narrow(1, a, b - a)));
  }
  return { outs, xt, qt };
}

/** Compares loop and chunked: outputs, state, and gradients of a weighted sum of the outputs. */
function compare(seed: number, cfg: Cfg, B: number, T: number, cutsLoop: number[], cutsChunk: number[]) {
  const { loop, chunked, r } = pair(seed, cfg);
  const x = randArr(r, B * T * H * D);
  const q = randArr(r, B * T * H * D);
  const w = t64(randArr(r, B * T * H * D), [B, T, H, D]);
  const res = [loop, chunked].map((m, i) => {
    const { outs, xt, qt } = run(m, x, q, B, T, i === 0 ? cutsLoop : cutsChunk);
    const o = outs.length === 1 ? outs[0]! : cat(outs, 1);
    let loss = o.mul(w).sum();
    for (const n of m.names) loss = loss.add(m.fast(n)!.w1.sum().mul(0.3)).add(m.fast(n)!.w2.sum().mul(-0.2));
    loss.backward();
    return { o: o.dataSync(), xt, qt, m };
  });
  const [L, C] = res as [(typeof res)[0], (typeof res)[0]];
  expect(maxDiff(C.o, L.o), 'outputs').toBeLessThan(1e-12);
  expect(C.m.tokens).toBe(L.m.tokens);
  for (const n of loop.names) {
    for (const k of ['w1', 'w2'] as const) {
      expect(
        maxDiff(chunked.fast(n)![k].dataSync(), loop.fast(n)![k].dataSync()),
        `fast ${n}.${k}`,
      ).toBeLessThan(1e-12);
      const gl = loop.memories[n]![k].grad!.dataSync();
      const gc = chunked.memories[n]![k].grad!.dataSync();
      expect(maxDiff(gc, gl), `grad ${n}.${k}`).toBeLessThan(1e-11);
      expect(maxDiff(gl, new Float64Array(gl.length)), `grad ${n}.${k} non-zero`).toBeGreaterThan(0);
    }
  }
  expect(maxDiff(C.xt.grad!.dataSync(), L.xt.grad!.dataSync()), 'grad x').toBeLessThan(1e-11);
  if (cfg.adaptiveQ)
    expect([C.qt.grad, L.qt.grad]).toEqual([null, null]); // q is M_q,ξ(x)
  else expect(maxDiff(C.qt.grad!.dataSync(), L.qt.grad!.dataSync()), 'grad q').toBeLessThan(1e-11);
  return { loop, chunked };
}

describe("SelfModifyingTitans impl 'chunked' == impl 'loop'", () => {
  const cases: [string, Cfg, number, number][] = [
    ['chunkMem 4, chunkOther 3, momentum 0.9, odd T', { chunkMem: 4, chunkOther: 3, momentum: 0.9 }, 2, 11],
    ['chunkMem 2, chunkOther 5, momentum 0', { chunkMem: 2, chunkOther: 5, momentum: 0 }, 1, 9],
    ['T shorter than both chunks', { chunkMem: 16, chunkOther: 8, momentum: 0.9 }, 2, 5],
    ['chunk 1 (every token a segment)', { chunkMem: 1, chunkOther: 1, momentum: 0.5 }, 1, 4],
    ['equal chunks 4, T 12', { chunkMem: 4, chunkOther: 4, momentum: 0.9, alphaBias: 0, etaBias: 1 }, 1, 12],
    ['readSnapshot', { chunkMem: 3, chunkOther: 2, momentum: 0.9, readSnapshot: true }, 2, 7],
    ['adaptiveQ', { chunkMem: 3, chunkOther: 4, momentum: 0.9, adaptiveQ: true }, 1, 10],
    [
      'long segments (blocked inverse: 19 + 4 tokens)',
      { chunkMem: 19, chunkOther: 19, momentum: 0.9 },
      1,
      23,
    ],
  ];
  for (const [name, cfg, B, T] of cases) {
    it(name, () => {
      compare(31 + T, cfg, B, T, [], []);
    });
  }

  it('calls cut anywhere (chunked pieces == loop in one call == loop token by token)', () => {
    const cfg = { chunkMem: 4, chunkOther: 3, momentum: 0.9 };
    compare(41, cfg, 2, 13, [], [1, 5, 6, 11]);
    compare(42, cfg, 1, 10, [1, 2, 3, 4, 5, 6, 7, 8, 9], [7]);
  });

  it('frozen: reads the carried state, writes nothing (plain and adaptiveQ)', () => {
    for (const adaptiveQ of [false, true]) {
      const { loop, chunked } = compare(51, { chunkMem: 3, chunkOther: 2, adaptiveQ }, 1, 5, [], [2]);
      const r = rng(52);
      const x = randArr(r, 6 * H * D);
      const q = randArr(r, 6 * H * D);
      const before = chunked.fast('mem')!.w2.dataSync();
      const outs = [loop, chunked].map((m) => {
        m.freeze();
        return m.forward(t64(x, [1, 6, H, D]), t64(q, [1, 6, H, D])).dataSync();
      });
      expect(maxDiff(outs[1]!, outs[0]!)).toBeLessThan(1e-12);
      expect(maxDiff(chunked.fast('mem')!.w2.dataSync(), before)).toBe(0);
      expect(chunked.tokens).toBe(5);
    }
  });

  it('shares the state format with the loop: snapshot of a loop run restored into a chunked run', () => {
    const { loop, chunked, r } = pair(71, { chunkMem: 4, chunkOther: 3 });
    const [B, T, cut] = [1, 9, 5];
    const x = t64(randArr(r, B * T * H * D), [B, T, H, D]);
    const q = t64(randArr(r, B * T * H * D), [B, T, H, D]);
    const whole = loop.forward(x, q).dataSync();
    loop.reset();
    loop.forward(x.narrow(1, 0, cut), q.narrow(1, 0, cut));
    chunked.restore(loop.snapshot());
    const rest = chunked.forward(x.narrow(1, cut, T - cut), q.narrow(1, cut, T - cut)).dataSync();
    expect(maxDiff(rest, whole.slice(cut * H * D))).toBeLessThan(1e-12);
  });

  it('outer gradients vs finite differences (x, mem, alpha and eta inits)', () => {
    const { chunked, r } = pair(81, { chunkMem: 3, chunkOther: 2, momentum: 0.9 });
    const q = t64(randArr(r, 5 * H * D), [1, 5, H, D]);
    const m = chunked.memories;
    const fn = (x: Tensor, mw1: Tensor, mw2: Tensor, aw2: Tensor, ew1: Tensor): Tensor => {
      m.mem!.replaceParameter('w1', mw1);
      m.mem!.replaceParameter('w2', mw2);
      m.alpha!.replaceParameter('w2', aw2);
      m.eta!.replaceParameter('w1', ew1);
      chunked.reset();
      return chunked.forward(x, q);
    };
    const ins = [t64(randArr(r, 5 * H * D), [1, 5, H, D]), m.mem!.w1, m.mem!.w2, m.alpha!.w2, m.eta!.w1].map(
      (p) => t64(p.dataSync() as Float64Array, [...p.shape]),
    );
    expect(gradcheck(fn, ins, { atol: 1e-7, rtol: 1e-5 }).checked).toBe(ins.reduce((s, t) => s + t.numel, 0));
  });

  it('float32: agrees with the loop to float rounding (default chunks, T 40)', () => {
    const outs = (['loop', 'chunked'] as const).map((impl) => {
      manualSeed(5);
      const m = new SelfModifyingTitans({ heads: 2, dim: 8, impl, initStd: 0.2 });
      const x = mul(randn([2, 40, 2, 8]), 0.3);
      const q = randn([2, 40, 2, 8]);
      const o = m.forward(x, q);
      o.square().sum().backward();
      return [o.dataSync(), m.fast('mem')!.w2.dataSync(), m.memories.k!.w1.grad!.dataSync()];
    });
    for (let i = 0; i < 3; i++) {
      const [l, c] = [outs[0]![i]!, outs[1]![i]!];
      const scale = Math.max(...Array.from(l, Math.abs));
      expect(maxDiff(c, l) / scale, `output ${i}`).toBeLessThan(2e-5);
    }
  });

  it('empty call and bad impl', () => {
    const { chunked } = pair(61, {});
    expect(
      chunked.forward(t64(new Float64Array(0), [1, 0, H, D]), t64(new Float64Array(0), [1, 0, H, D])).shape,
    ).toEqual([1, 0, H, D]);
    expect(() => new SelfModifyingTitans({ heads: 1, dim: 2, impl: 'gpu' as unknown as 'loop' })).toThrow(
      /impl must be 'loop'.* got gpu/,
    );
  });
});
