/**
 * SelfModifyingTitans impl 'fused' (one native op per call, C++ forward and backward) vs the token
 * loop (impl 'loop', itself tested against an independent float64 loop) given the same parameters,
 * in float64: outputs, carried state of every memory (fast weights, momenta, snapshots), the token
 * position, and gradients of x, q and every memory's init w1 / w2. Shapes: B 1–2, H 1–2, D 3–8,
 * Dh ≠ D; odd T, T shorter than and not a multiple of the chunks, chunkMem ≠ chunkOther, chunk 1,
 * momentum 0 / 0.9, both read orders, adaptiveQ, calls cut anywhere, frozen reads; float32.
 */
import { describe, expect, it } from 'vitest';
import { cat, manualSeed, mul, randn, type Tensor } from '@nl/tensor';
import { SelfModifyingTitans, type SelfModifyingConfig } from '../../src/index.js';
import { maxDiff, randArr, rng, t64 } from './helpers.js';

type Cfg = Omit<SelfModifyingConfig, 'heads' | 'dim' | 'hidden' | 'impl'>;
interface Dims {
  B: number;
  H: number;
  D: number;
  DH: number;
}

function pair(seed: number, dims: Dims, cfg: Cfg) {
  const { H, D, DH } = dims;
  const r = rng(seed);
  const mk = (impl: 'loop' | 'fused') =>
    new SelfModifyingTitans({ heads: H, dim: D, hidden: DH, dtype: 'float64', ...cfg, impl });
  const loop = mk('loop');
  const fused = mk('fused');
  for (const n of loop.names) {
    const w1 = randArr(r, H * D * DH, -0.6, 0.6);
    const w2 = randArr(r, H * DH * D, -0.6, 0.6);
    for (const m of [loop, fused]) {
      m.memories[n]!.replaceParameter('w1', t64(w1, [H, D, DH]));
      m.memories[n]!.replaceParameter('w2', t64(w2, [H, DH, D]));
    }
  }
  return { loop, fused, r };
}

/** Runs `m` on x, q [B, T, H, D] cut at `cuts`; returns the outputs and the input tensors. */
function run(
  m: SelfModifyingTitans,
  x: Float64Array,
  q: Float64Array,
  dims: Dims,
  T: number,
  cuts: number[],
) {
  const shape = [dims.B, T, dims.H, dims.D];
  const xt = t64(x, shape, true);
  const qt = t64(q, shape, true);
  const bounds = [0, ...cuts, T];
  const outs: Tensor[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const [a, b] = [bounds[i]!, bounds[i + 1]!];
    outs.push(m.forward(xt.narrow(1, a, b - a), qt.narrow(1, a, b - a)));
  }
  return { o: outs.length === 1 ? outs[0]! : cat(outs, 1), xt, qt };
}

/** Compares loop and fused: outputs, state, and gradients of a loss on outputs and final state. */
function compare(seed: number, dims: Dims, cfg: Cfg, T: number, cutsLoop: number[], cutsFused: number[]) {
  const { loop, fused, r } = pair(seed, dims, cfg);
  const n = dims.B * T * dims.H * dims.D;
  const x = randArr(r, n);
  const q = randArr(r, n);
  const w = t64(randArr(r, n), [dims.B, T, dims.H, dims.D]);
  const res = [loop, fused].map((m, i) => {
    const { o, xt, qt } = run(m, x, q, dims, T, i === 0 ? cutsLoop : cutsFused);
    if (i === 1 && cutsFused.length === 0) {
      expect(o.node?.op).toBe('memory.selfModifyingTitans');
      // the op runs a call of ≤ 256 tokens as one backward block (chunk form): nothing to keep
      // (blocks > 1 through the op: test/kernels/self-mod-native.test.ts)
      expect(o.node!.ctx.saved.length, 'block-start states kept for the backward').toBe(T > 256 ? 1 : 0);
    }
    let loss = o.mul(w).sum();
    for (const nm of m.names) {
      const f = m.fast(nm)!;
      loss = loss.add(f.w1.sum().mul(0.3)).add(f.w2.square().sum().mul(-0.2));
    }
    loss.backward();
    return { o: o.dataSync(), xt, qt, m };
  });
  const [L, F] = res as [(typeof res)[0], (typeof res)[0]];
  expect(maxDiff(F.o, L.o), 'outputs').toBeLessThan(1e-11);
  expect(fused.tokens).toBe(loop.tokens);
  const sl = loop.snapshot().state!;
  const sf = fused.snapshot().state!;
  for (const nm of loop.names) {
    for (const k of ['w1', 'w2', 's1', 's2', 'a1', 'a2'] as const) {
      expect(maxDiff(sf[nm]![k].dataSync(), sl[nm]![k].dataSync()), `state ${nm}.${k}`).toBeLessThan(1e-11);
    }
    for (const k of ['w1', 'w2'] as const) {
      const gl = loop.memories[nm]![k].grad!.dataSync();
      const gf = fused.memories[nm]![k].grad!.dataSync();
      expect(maxDiff(gf, gl), `grad ${nm}.${k}`).toBeLessThan(1e-9);
      expect(maxDiff(gl, new Float64Array(gl.length)), `grad ${nm}.${k} non-zero`).toBeGreaterThan(0);
    }
  }
  expect(maxDiff(F.xt.grad!.dataSync(), L.xt.grad!.dataSync()), 'grad x').toBeLessThan(1e-9);
  if (cfg.adaptiveQ) expect([F.qt.grad, L.qt.grad]).toEqual([null, null]);
  else expect(maxDiff(F.qt.grad!.dataSync(), L.qt.grad!.dataSync()), 'grad q').toBeLessThan(1e-9);
  return { loop, fused };
}

describe("SelfModifyingTitans impl 'fused' == impl 'loop' (float64)", () => {
  const cases: [string, Dims, Cfg, number][] = [
    ['chunkMem 4, chunkOther 3, momentum 0.9, odd T', { B: 2, H: 2, D: 4, DH: 3 }, { chunkMem: 4, chunkOther: 3 }, 11],
    ['chunkMem 2, chunkOther 5, momentum 0', { B: 1, H: 1, D: 5, DH: 7 }, { chunkMem: 2, chunkOther: 5, momentum: 0 }, 9],
    ['T shorter than both chunks', { B: 2, H: 1, D: 3, DH: 6 }, { chunkMem: 16, chunkOther: 8 }, 5],
    ['chunk 1 (every token a segment)', { B: 1, H: 2, D: 6, DH: 4 }, { chunkMem: 1, chunkOther: 1, momentum: 0.5 }, 4],
    ['equal chunks 4, T 13, other biases', { B: 1, H: 1, D: 8, DH: 5 }, { chunkMem: 4, chunkOther: 4, alphaBias: 0, etaBias: 1 }, 13],
    ['readSnapshot', { B: 2, H: 2, D: 4, DH: 5 }, { chunkMem: 3, chunkOther: 2, readSnapshot: true }, 7],
    ['adaptiveQ', { B: 1, H: 2, D: 5, DH: 3 }, { chunkMem: 3, chunkOther: 4, adaptiveQ: true }, 10],
    ['adaptiveQ + readSnapshot, momentum 0', { B: 2, H: 1, D: 3, DH: 4 }, { chunkMem: 5, chunkOther: 2, adaptiveQ: true, readSnapshot: true, momentum: 0 }, 9],
  ]; // prettier-ignore
  for (const [name, dims, cfg, T] of cases) {
    it(name, () => {
      compare(31 + T, dims, cfg, T, [], []);
    });
  }

  it('longer than a backward block (T 75 > 32, chunks 16 / 8)', () => {
    compare(61, { B: 1, H: 1, D: 3, DH: 2 }, { chunkMem: 16, chunkOther: 8 }, 75, [], []);
  });

  it('calls cut anywhere (fused pieces == loop in one call == loop token by token)', () => {
    const dims = { B: 2, H: 2, D: 4, DH: 3 };
    const cfg = { chunkMem: 4, chunkOther: 3 };
    compare(41, dims, cfg, 13, [], [1, 5, 6, 11]);
    compare(42, { ...dims, B: 1 }, cfg, 10, [1, 2, 3, 4, 5, 6, 7, 8, 9], [7]);
    compare(43, { ...dims, B: 1 }, { ...cfg, readSnapshot: true, adaptiveQ: true }, 10, [3], [2, 9]);
  });

  it('frozen: reads the carried state, writes nothing (plain and adaptiveQ)', () => {
    const dims = { B: 1, H: 2, D: 4, DH: 3 };
    for (const adaptiveQ of [false, true]) {
      const { loop, fused } = compare(51, dims, { chunkMem: 3, chunkOther: 2, adaptiveQ }, 5, [], [2]);
      const r = rng(52);
      const x = randArr(r, 6 * 2 * 4);
      const q = randArr(r, 6 * 2 * 4);
      const before = fused.fast('mem')!.w2.dataSync();
      const outs = [loop, fused].map((m) => {
        m.freeze();
        return m.forward(t64(x, [1, 6, 2, 4]), t64(q, [1, 6, 2, 4])).dataSync();
      });
      expect(maxDiff(outs[1]!, outs[0]!)).toBeLessThan(1e-12);
      expect(maxDiff(fused.fast('mem')!.w2.dataSync(), before)).toBe(0);
      expect(fused.tokens).toBe(5);
    }
  });

  it('float32: agrees with the loop to float rounding (default chunks, T 40, pieces)', () => {
    const outs = (['loop', 'fused'] as const).map((impl) => {
      manualSeed(5);
      const m = new SelfModifyingTitans({ heads: 2, dim: 8, hidden: 6, impl, initStd: 0.2 });
      const x = mul(randn([2, 40, 2, 8]), 0.3);
      const q = randn([2, 40, 2, 8]);
      const o = cat([m.forward(x.narrow(1, 0, 13), q.narrow(1, 0, 13)), m.forward(x.narrow(1, 13, 27), q.narrow(1, 13, 27))], 1);
      o.square().sum().backward();
      expect(o.dtype).toBe('float32');
      return [o.dataSync(), m.fast('mem')!.w2.dataSync(), m.memories.k!.w1.grad!.dataSync(), m.memories.mem!.w2.grad!.dataSync()];
    });
    for (let i = 0; i < 4; i++) {
      const [l, f] = [outs[0]![i]!, outs[1]![i]!];
      const scale = Math.max(...Array.from(l, Math.abs));
      expect(maxDiff(f, l) / scale, `output ${i}`).toBeLessThan(2e-5);
    }
  }); // prettier-ignore

  it('bad input: wrong shapes and mixed dtypes give clear errors', () => {
    const m = new SelfModifyingTitans({ heads: 2, dim: 4, hidden: 3, impl: 'fused' }); // float32
    const x64 = t64(new Float64Array(1 * 3 * 2 * 4), [1, 3, 2, 4]);
    expect(() => m.forward(x64, x64)).toThrow(/selfModForward: all arrays must share a dtype, but x is Float64Array and w1 is Float32Array/);
    const x32 = randn([1, 3, 2, 4]);
    expect(() => m.forward(randn([1, 3, 2, 5]), x32)).toThrow(/x must be \[B, T, 2, 4\], got \[1, 3, 2, 5\]/);
    expect(() => m.forward(x32, randn([1, 4, 2, 4]))).toThrow(/q \[B, T\] = \[1, 4\] differs from x's \[1, 3\]/);
  }); // prettier-ignore

  it('T = 0 returns [B, 0, H, D] and keeps the state', () => {
    const { fused } = pair(9, { B: 1, H: 1, D: 3, DH: 2 }, {});
    const o = fused.forward(t64(new Float64Array(0), [2, 0, 1, 3]), t64(new Float64Array(0), [2, 0, 1, 3]));
    expect(o.shape).toEqual([2, 0, 1, 3]);
    expect(fused.tokens).toBe(0);
  });
});
