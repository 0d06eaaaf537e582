/**
 * memory.selfModifyingTitans on 'cuda' in token form (`dual: false`; the emulated device:
 * token-recurrent kernels of native/src/cuda/kernels/self_mod.h, self_mod_backward.h; the chunk
 * form: cuda-self-mod-dual.test.ts) against the 'cpu' fused kernels (the op on its own: output,
 * the six final states and the gradients of x, q and all six carried states, float32 / float64, odd T,
 * T below one chunk, calls starting mid-chunk, adaptiveQ, readSnapshot, momentum 0, a backward-block
 * sweep, absent output gradients) and against the token loop (impl 'loop', float64, the reference
 * of self-modifying.ts: the module's default (chunk) form in one call, the token form in calls cut
 * into pieces == one call); with the inner-gradient clip (innerGradClip, acting) against the 'cpu'
 * fused kernel's clip and, in calls cut into pieces, against the token loop's; bad input gives
 * clear errors.
 * Shapes stay tiny: the emulator runs every thread of every block on the host.
 */
import { native } from '@nl/native';
import { cat, tensor, type Tensor } from '@nl/tensor';
import { cudaPointer } from '@nl/tensor/internal';
import { assertClose, enableCudaEmulation } from '@nl/tensor/testing';
import { describe, expect, it } from 'vitest';
import { SelfModifyingTitans, type SelfModifyingConfig } from '../src/index.js';
import { SELF_MOD_STATES } from '../src/kernels/index.js';
import type { FusedSelfModAttrs } from '../src/modules/self-modifying-fused.js';
import { base as shared, type Case, compare, compareClip, data, NAMES } from './cuda-self-mod-helpers.js';
import { randArr, rng } from './modules/helpers.js';

enableCudaEmulation();

const base: FusedSelfModAttrs = { ...shared, dual: false };

describe('memory.selfModifyingTitans on cuda == cpu fused kernels', () => {
  const cases: [string, Case, FusedSelfModAttrs][] = [
    ['odd T over several chunks, B, H > 1, Dh > D', { B: 2, T: 7, H: 2, D: 3, Dh: 4 }, base],
    ['T below one chunk, Dh < D', { B: 1, T: 3, H: 1, D: 4, Dh: 2 }, { ...base, chunkMem: 8, chunkOther: 4 }],
    ['starts mid-chunk, momentum 0, backward blocks of 2', { B: 1, T: 6, H: 2, D: 3, Dh: 3 }, { ...base, tokens: 4, momentum: 0, block: 2 }],
    ['readSnapshot, chunk 1 for mem', { B: 1, T: 5, H: 1, D: 3, Dh: 2 }, { ...base, chunkMem: 1, readSnapshot: true }],
    ['adaptiveQ + readSnapshot, blocks of 3', { B: 2, T: 5, H: 1, D: 2, Dh: 3 }, { ...base, tokens: 1, adaptiveQ: true, readSnapshot: true, block: 3 }],
    ['more columns and hidden units than threads', { B: 1, T: 3, H: 1, D: 40, Dh: 12 }, { ...base, tokens: 1 }],
    ['T 20 over two automatic backward blocks (16)', { B: 1, T: 20, H: 1, D: 4, Dh: 3 }, { ...base, chunkMem: 4, chunkOther: 3 }],
  ]; // prettier-ignore
  for (const dtype of ['float64', 'float32'] as const)
    for (const [name, c, a] of cases) it(`${dtype}: ${name}`, () => void compare(dtype, c, a));

  it('the backward block changes nothing (blocks 1, 2, 3, 5, T, auto)', () => {
    const c = { B: 1, T: 9, H: 1, D: 3, Dh: 2 };
    const ref = compare('float64', c, { ...base, tokens: 2 }, 3);
    for (const block of [1, 2, 3, 5, 9]) {
      const r = compare('float64', c, { ...base, tokens: 2, block }, 3);
      assertClose('o', ref.o, r.o);
      ref.grads.forEach((g, i) => g && assertClose(NAMES[i]!, g, r.grads[i]!));
    }
  });

  it('absent output gradient (only the final states carry a loss)', () => {
    compare('float64', { B: 1, T: 5, H: 2, D: 2, Dh: 3 }, base, 9, true);
  });

  it('T = 0: o is empty, the final states are the initial ones and pass their gradients back', () => {
    const c = { B: 2, T: 0, H: 1, D: 2, Dh: 3 };
    const r = compare('float64', c, base, 4);
    expect(r.o).toHaveLength(0);
    const d = data(c, base, 4);
    r.fin.forEach((f, i) => expect(f).toEqual(Array.from(d.st[i]!)));
    r.grads.slice(2).forEach((g, i) => expect(g).toEqual(Array.from(d.ws[i]!)));
  });
});

describe('memory.selfModifyingTitans on cuda with innerGradClip == cpu fused kernel (token form)', () => {
  const cases: [string, Case, FusedSelfModAttrs][] = [
    ['odd T over several chunks, B, H > 1, Dh > D', { B: 2, T: 7, H: 2, D: 3, Dh: 4 }, { ...base, innerGradClip: 0.05 }],
    ['starts mid-chunk, momentum 0, backward blocks of 2', { B: 1, T: 7, H: 2, D: 3, Dh: 3 }, { ...base, tokens: 4, momentum: 0, block: 2, innerGradClip: 0.03 }],
    ['adaptiveQ + readSnapshot, blocks of 3', { B: 2, T: 5, H: 1, D: 2, Dh: 3 }, { ...base, tokens: 1, adaptiveQ: true, readSnapshot: true, block: 3, innerGradClip: 0.05 }],
  ]; // prettier-ignore
  for (const dtype of ['float64', 'float32'] as const)
    for (const [name, c, a] of cases) it(`${dtype}: ${name}`, () => void compareClip(dtype, c, a));
});

type Cfg = Omit<SelfModifyingConfig, 'heads' | 'dim' | 'hidden' | 'impl'>;

/** The module: impl 'loop' on the CPU (reference) vs impl 'fused' on cuda, the same parameters. */
function moduleCompare(c: Case, cfg: Cfg, cutsFused: number[], seed: number) {
  const { B, T, H, D, Dh } = c;
  const r = rng(seed);
  const mk = (impl: 'loop' | 'fused') =>
    new SelfModifyingTitans({ heads: H, dim: D, hidden: Dh, dtype: 'float64', ...cfg, impl });
  const loop = mk('loop');
  const fused = mk('fused');
  for (const n of loop.names) {
    const w1 = randArr(r, H * D * Dh, -0.6, 0.6);
    const w2 = randArr(r, H * Dh * D, -0.6, 0.6);
    for (const m of [loop, fused]) {
      m.memories[n]!.replaceParameter('w1', tensor(Array.from(w1), { shape: [H, D, Dh], dtype: 'float64' }));
      m.memories[n]!.replaceParameter('w2', tensor(Array.from(w2), { shape: [H, Dh, D], dtype: 'float64' }));
    }
  }
  fused.to('cuda');
  const n = B * T * H * D;
  const x = randArr(r, n);
  const q = randArr(r, n);
  const w = randArr(r, n);
  const res = ([[loop, 'cpu', []], [fused, 'cuda', cutsFused]] as const).map(([m, device, cuts]) => {
    const t = (a: Float64Array, g = true) =>
      tensor(Array.from(a), { shape: [B, T, H, D], dtype: 'float64', device, requiresGrad: g });
    const xt = t(x);
    const qt = t(q, !cfg.adaptiveQ);
    const bounds = [0, ...cuts, T];
    const outs: Tensor[] = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const [a, b] = [bounds[i]!, bounds[i + 1]!];
      outs.push(m.forward(xt.narrow(1, a, b - a), qt.narrow(1, a, b - a)));
    }
    const o = outs.length === 1 ? outs[0]! : cat(outs, 1);
    let loss = o.mul(t(w, false)).sum();
    for (const nm of m.names) loss = loss.add(m.fast(nm)!.w1.sum().mul(0.3)).add(m.fast(nm)!.w2.square().sum());
    loss.backward();
    const arr = (v: Tensor | null) => (v ? Array.from(v.dataSync()) : null);
    const grads = m.names.flatMap((nm) => [arr(m.memories[nm]!.w1.grad), arr(m.memories[nm]!.w2.grad)]);
    return { o: arr(o)!, gx: arr(xt.grad)!, gq: arr(qt.grad), grads, snap: m.snapshot().state!, m };
  });
  const [L, F] = res as [(typeof res)[0], (typeof res)[0]];
  const t = { rtol: 1e-9, atol: 1e-11 };
  assertClose('o', L.o, F.o, t);
  for (const nm of loop.names)
    for (const k of SELF_MOD_STATES) assertClose(`${nm}.${k}`, L.snap[nm]![k].dataSync(), F.snap[nm]![k].dataSync(), t);
  assertClose('grad x', L.gx, F.gx, t);
  if (cfg.adaptiveQ) expect([L.gq, F.gq]).toEqual([null, null]);
  else assertClose('grad q', L.gq!, F.gq!, t);
  L.grads.forEach((g, i) => assertClose(`grad ${i}`, g!, F.grads[i]!, t));
  expect(F.m.tokens).toBe(L.m.tokens);
} // prettier-ignore

describe("SelfModifyingTitans impl 'fused' on cuda == impl 'loop' (float64)", () => {
  it('odd T, chunkMem 4 / chunkOther 3, one call', () => {
    moduleCompare({ B: 2, T: 7, H: 1, D: 3, Dh: 2 }, { chunkMem: 4, chunkOther: 3 }, [], 31);
  });
  it('adaptiveQ + readSnapshot, one call', () => {
    moduleCompare({ B: 1, T: 6, H: 2, D: 2, Dh: 3 }, { chunkMem: 3, chunkOther: 2, adaptiveQ: true, readSnapshot: true }, [], 32); // prettier-ignore
  });
  it('innerGradClip, calls cut into pieces (token form) == one call of the loop', () => {
    moduleCompare({ B: 1, T: 9, H: 1, D: 3, Dh: 2 }, { chunkMem: 4, chunkOther: 3, dual: false, innerGradClip: 0.05 }, [2, 5], 34); // prettier-ignore
  });
  it('calls cut into pieces == one call (token form, dual: false)', () => {
    moduleCompare(
      { B: 1, T: 8, H: 1, D: 3, Dh: 2 },
      { chunkMem: 4, chunkOther: 3, dual: false },
      [1, 4, 5],
      33,
    );
  });
});

describe('cudaSelfMod entry points: bad input', () => {
  const c = { B: 1, T: 2, H: 1, D: 2, Dh: 2 };
  const dims = {
    batch: 1, seqLen: 2, heads: 1, d: 2, hidden: 2, mems: 5, tokens: 0, chunkMem: 2, chunkOther: 2,
    momentum: 0.9, alphaBias: 1, etaBias: -1, adaptiveQ: false, readSnapshot: false,
  }; // prettier-ignore
  const mk = (n: number) => tensor(new Array(n).fill(0), { shape: [n], dtype: 'float32', device: 'cuda' });
  const seq = mk(c.B * c.T * c.H * c.D);
  const st = mk(5 * c.D * c.Dh);
  const fwd = (d: object, ptrs: (Tensor | null)[]) =>
    native.cudaSelfModForward(0, d as typeof dims, ptrs.map((t) => (t ? cudaPointer(t.storage.buffer) : null)), ptrs.map(() => 0)); // prettier-ignore
  const ok = [seq, seq, st, st, st, st, st, st, seq, st, st, st, st, st, st];

  it('a correct call runs', () => {
    expect(() => fwd(dims, ok)).not.toThrow();
  });
  it('names what is wrong', () => {
    expect(() => fwd({ ...dims, mems: 4 }, ok)).toThrow(/cudaSelfModForward: dims.mems must be 5/);
    expect(() => fwd({ ...dims, chunkMem: 0 }, ok)).toThrow(/cudaSelfModForward: dims.chunkMem/);
    expect(() => fwd({ ...dims, momentum: NaN }, ok)).toThrow(/dims.momentum must be a finite number/);
    expect(() => fwd(dims, ok.slice(1))).toThrow(/takes 15 operands/);
    expect(() => fwd(dims, [seq, null, ...ok.slice(2)])).toThrow(/operand 1 is required/);
    expect(() => fwd({ ...dims, hidden: 3 }, ok)).toThrow(/operand 2 reaches element 29 of a buffer of 20 float32 elements/);
    expect(() => native.cudaSelfModForward(0, dims, [1234, ...ok.slice(1).map((t) => cudaPointer(t.storage.buffer))], ok.map(() => 0))).toThrow(/not a live CUDA buffer/); // prettier-ignore
    expect(() => native.cudaSelfModBackward(2 as 0, dims, [], [])).toThrow(/dtype must be float32 or float64/);
  }); // prettier-ignore
});
