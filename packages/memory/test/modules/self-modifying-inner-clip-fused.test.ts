/**
 * SelfModifyingTitans impl 'fused' with inner-gradient clipping (`innerGradClip`, the native CPU
 * kernel's dims.clip: native/src/cpu/self_mod_clip.h), float64:
 * - against impl 'chunked' with the same clip (itself checked against 'loop' and an independent
 *   one-token computation in self-modifying-inner-clip.test.ts): outputs, the six carried states of
 *   every memory, and every gradient (x, q, xv, every memory's init w1 / w2) within 1e-9, in chunk
 *   ("dual") form and token form; odd T, several chunk sizes, calls cut into pieces, momentum 0
 *   and 0.9, adaptiveQ + readSnapshot, a value input; each case asserts that the clip acts (the
 *   unclipped run differs);
 * - the op's gradient through the clip against central finite differences (every input, both forms);
 * - token form == chunk form at the kernel level (kept block-start states or none);
 * - a clip above every gradient norm gives exactly the kernel without a clip (forward and backward);
 * - bad values are named; on 'cuda' (emulated) the fused impl runs the clip (its kernels against
 *   this kernel: cuda-self-mod.test.ts, cuda-self-mod-dual.test.ts) and the addon names a bad value.
 */
import { describe, expect, it } from 'vitest';
import { native } from '@nl/native';
import { gradcheck, tensor, type Tensor } from '@nl/tensor';
import { cudaDTypeOf } from '@nl/tensor/internal';
import { enableCudaEmulation } from '@nl/tensor/testing';
import {
  selfModBackward,
  selfModForward,
  SELF_MOD_STATES,
  type SelfModStates,
} from '../../src/kernels/index.js';
import { fusedSelfMod } from '../../src/modules/self-modifying-fused.js';
import { randArray } from '../kernels/helpers.js';
import { SELF_MOD_BASE, selfModData, selfModOpts, type SelfModCase } from '../kernels/self-mod-cases.js';
import { maxDiff, randArr, rng, sameInitSelfMod } from './helpers.js';
import { buildSmall as build, D, H, runCut as run, type SmallCfg as Cfg } from './self-mod-kit.js';

interface Case {
  cfg: Cfg;
  B: number;
  T: number;
  cuts: number[];
  xv?: boolean;
}

const cases: [string, Case][] = [
  ['odd T 11, one call, momentum 0.9', { cfg: { chunkMem: 4, chunkOther: 3, momentum: 0.9, innerGradClip: 0.1 }, B: 2, T: 11, cuts: [] }],
  ['calls cut at 2 and 7 (T 13), chunks 5 / 2', { cfg: { chunkMem: 5, chunkOther: 2, momentum: 0.9, innerGradClip: 0.05 }, B: 2, T: 13, cuts: [2, 7] }],
  ['momentum 0, chunk 1 for mem, cut at 3 (T 7)', { cfg: { chunkMem: 1, chunkOther: 2, momentum: 0, innerGradClip: 0.05 }, B: 2, T: 7, cuts: [3] }],
  ['T 3 below both chunks (8, 4)', { cfg: { chunkMem: 8, chunkOther: 4, innerGradClip: 0.05 }, B: 1, T: 3, cuts: [] }],
  ['adaptiveQ + readSnapshot, cut at 5 (T 9)', { cfg: { chunkMem: 3, chunkOther: 2, adaptiveQ: true, readSnapshot: true, innerGradClip: 0.08 }, B: 1, T: 9, cuts: [5] }],
  ['value input, chunks 6 / 3, cut at 4 (T 15)', { cfg: { chunkMem: 6, chunkOther: 3, momentum: 0.9, innerGradClip: 0.1 }, B: 2, T: 15, cuts: [4], xv: true }],
]; // prettier-ignore

const TOL = 1e-9;

describe("SelfModifyingTitans impl 'fused' with innerGradClip == 'chunked' (float64)", () => {
  for (const [name, c] of cases)
    for (const dual of [true, false])
      it(`${name} (${dual ? 'chunk' : 'token'} form)`, () => {
        const withXv = c.xv === true;
        const [F, R] = build(31, { ...c.cfg, dual }, ['fused', 'chunked']).map((m, i) => {
          const data = [0, 1, 2, 3].map((k) => randArr(rng(40 + k), c.B * c.T * H * D));
          return run(m, data, c.B, c.T, i === 0 ? c.cuts : [], withXv); // the reference in one call
        });
        const [U] = build(31, { ...c.cfg, innerGradClip: 0 }, ['chunked']).map((m) =>
          run(m, [0, 1, 2, 3].map((k) => randArr(rng(40 + k), c.B * c.T * H * D)), c.B, c.T, [], withXv),
        );
        expect(maxDiff(U!.o, R!.o), 'the clip changes the outputs').toBeGreaterThan(1e-3);
        expect(maxDiff(F!.o, R!.o), 'outputs').toBeLessThan(TOL);
        expect(F!.m.tokens).toBe(R!.m.tokens);
        const sf = F!.m.snapshot().state!;
        const sr = R!.m.snapshot().state!;
        for (const n of R!.m.names) {
          for (const k of SELF_MOD_STATES)
            expect(maxDiff(sf[n]![k].dataSync(), sr[n]![k].dataSync()), `state ${n}.${k}`).toBeLessThan(TOL);
          for (const k of ['w1', 'w2'] as const) {
            const gr = R!.m.memories[n]![k].grad!.dataSync();
            expect(maxDiff(F!.m.memories[n]![k].grad!.dataSync(), gr), `grad ${n}.${k}`).toBeLessThan(TOL);
            expect(maxDiff(gr, U!.m.memories[n]![k].grad!.dataSync()), `the clip changes grad ${n}.${k}`).toBeGreaterThan(1e-6);
          }
        }
        expect(maxDiff(F!.gx!.dataSync(), R!.gx!.dataSync()), 'gx').toBeLessThan(TOL);
        expect(maxDiff(R!.gx!.dataSync(), U!.gx!.dataSync()), 'the clip changes gx').toBeGreaterThan(1e-6);
        if (withXv) expect(maxDiff(F!.gv!.dataSync(), R!.gv!.dataSync()), 'gxv').toBeLessThan(TOL);
        else expect([F!.gv, R!.gv]).toEqual([null, null]);
        if (c.cfg.adaptiveQ) expect([F!.gq, R!.gq]).toEqual([null, null]);
        else expect(maxDiff(F!.gq!.dataSync(), R!.gq!.dataSync()), 'gq').toBeLessThan(TOL);
      }); // prettier-ignore

  it("on 'cuda' (emulated) the fused impl runs the clip (== the CPU fused impl; kernels: cuda-self-mod*.test.ts); the addon names a bad value", () => {
    enableCudaEmulation();
    const [mc, mr] = sameInitSelfMod(5, { H: 1, D: 2, DH: 2 }, { innerGradClip: 0.05 }, ['fused', 'fused']);
    mc!.to('cuda');
    const r = rng(5);
    const x = randArr(r, 10, -1, 1);
    const mk = (device: 'cpu' | 'cuda') => tensor(Array.from(x), { shape: [1, 5, 1, 2], dtype: 'float64', device });
    const oc = mc!.forward(mk('cuda'), mk('cuda')).dataSync();
    const or = mr!.forward(mk('cpu'), mk('cpu')).dataSync();
    expect(maxDiff(oc, or)).toBeLessThan(TOL);
    const dims = { batch: 1, seqLen: 3, heads: 1, d: 2, hidden: 2, mems: 5, tokens: 0, chunkMem: 3, chunkOther: 2, momentum: 0.9, alphaBias: 1, etaBias: -1, adaptiveQ: false, readSnapshot: false };
    expect(() => native.cudaSelfModForward(cudaDTypeOf('float64'), { ...dims, innerGradClip: -1 }, [], [])).toThrow(
      /nl\.cudaSelfModForward: dims\.innerGradClip must be a finite number >= 0, got -1/,
    );
  }); // prettier-ignore
});

const base = SELF_MOD_BASE;

describe('fused SelfModifyingTitans op with innerGradClip: gradcheck (every input)', () => {
  const cases: [string, SelfModCase][] = [
    ['chunk form, starts mid-chunk', { B: 1, T: 7, H: 1, D: 3, Dh: 2, attrs: { ...base, tokens: 4, innerGradClip: 0.05 } }],
    ['token form, backward blocks of 2', { B: 1, T: 7, H: 1, D: 3, Dh: 2, attrs: { ...base, tokens: 4, dual: false, block: 2, innerGradClip: 0.05 } }],
    ['chunk form, B 2, H 2, momentum 0, chunk 1 for mem, value input', { B: 2, T: 5, H: 2, D: 2, Dh: 3, attrs: { ...base, chunkMem: 1, momentum: 0, innerGradClip: 0.03 } }],
    ['token form, adaptiveQ + readSnapshot', { B: 1, T: 6, H: 1, D: 3, Dh: 2, attrs: { ...base, tokens: 1, adaptiveQ: true, readSnapshot: true, dual: false, innerGradClip: 0.05 } }],
  ]; // prettier-ignore
  for (const [name, c] of cases)
    it(name, () => {
      const withXv = name.includes('value input');
      const d = selfModData(7, c, withXv);
      const t = (a: Float64Array, shape: number[], g = true): Tensor =>
        tensor(Array.from(a), { shape, dtype: 'float64', requiresGrad: g });
      const ins: Tensor[] = [
        t(d.x, d.seq),
        t(d.q, d.seq, !c.attrs.adaptiveQ),
        ...SELF_MOD_STATES.map((s) => t(d.st[s], d.shape(s))),
        ...(withXv ? [t(d.xv!, d.seq)] : []),
      ];
      // the clip acts: the outputs differ from the unclipped kernel's
      const o = selfModForward(d.x, d.q, d.st, selfModOpts(c), false, undefined, d.xv).o;
      const u = selfModForward(
        d.x,
        d.q,
        d.st,
        selfModOpts(c, { innerGradClip: 0 }),
        false,
        undefined,
        d.xv,
      ).o;
      expect(maxDiff(o, u)).toBeGreaterThan(1e-3);
      const r = gradcheck((x, q, ...rest) => fusedSelfMod(x!, q!, rest.slice(0, 6), c.attrs, rest[6]), ins, {
        atol: 1e-6,
        rtol: 1e-5,
      });
      expect(r.checked).toBeGreaterThan(0);
    });
});

describe('fused SelfModifyingTitans kernels with innerGradClip', () => {
  const c: SelfModCase = {
    B: 2,
    T: 37,
    H: 2,
    D: 8,
    Dh: 6,
    attrs: { ...base, chunkMem: 8, chunkOther: 4, tokens: 3 },
  };

  for (const dual of [true, false])
    it(`a clip above every gradient norm == no clip, exactly (forward, backward; ${dual ? 'chunk' : 'token'} form)`, () => {
      const d = selfModData(3, c, true);
      const r = rng(4);
      const dO = randArray(d.x.length, r);
      const dEnd = {} as SelfModStates<Float64Array>;
      for (const s of SELF_MOD_STATES) dEnd[s] = randArray(d.st[s].length, r);
      const run = (clip: number) => {
        const o = selfModOpts(c, { dual, block: 5, innerGradClip: clip });
        const f = selfModForward(d.x, d.q, d.st, o, true, undefined, d.xv);
        return { f, b: selfModBackward(d.x, d.q, d.st, dO, dEnd, o, f.ckpt, undefined, d.xv) };
      };
      const [off, big, acts] = [0, 1e30, 0.1].map(run);
      expect(Array.from(big!.f.o)).toEqual(Array.from(off!.f.o));
      for (const s of SELF_MOD_STATES) expect(Array.from(big!.f.state[s])).toEqual(Array.from(off!.f.state[s]));
      for (const g of ['dx', 'dq', 'dxv'] as const) expect(Array.from(big!.b[g]!)).toEqual(Array.from(off!.b[g]!));
      for (const s of SELF_MOD_STATES) expect(Array.from(big!.b.dState[s])).toEqual(Array.from(off!.b.dState[s]));
      expect(maxDiff(acts!.f.o, off!.f.o)).toBeGreaterThan(1e-3);
      expect(maxDiff(acts!.b.dx, off!.b.dx)).toBeGreaterThan(1e-3);
    }); // prettier-ignore

  it('token form == chunk form with the clip (o, states, every gradient; kept states or none)', () => {
    const k: SelfModCase = { ...c, attrs: { ...c.attrs, innerGradClip: 0.1 } };
    const d = selfModData(5, k, true);
    const r = rng(6);
    const dO = randArray(d.x.length, r);
    const fw = [true, false].map((dual) => selfModForward(d.x, d.q, d.st, selfModOpts(k, { dual, block: 5 }), true, undefined, d.xv));
    expect(maxDiff(fw[1]!.o, fw[0]!.o)).toBeLessThan(1e-9);
    for (const s of SELF_MOD_STATES) expect(maxDiff(fw[1]!.state[s], fw[0]!.state[s])).toBeLessThan(1e-9);
    const bw = [true, false].flatMap((dual, i) => [
      selfModBackward(d.x, d.q, d.st, dO, {}, selfModOpts(k, { dual, block: 5 }), fw[i]!.ckpt, undefined, d.xv),
      selfModBackward(d.x, d.q, d.st, dO, {}, selfModOpts(k, { dual }), undefined, undefined, d.xv),
    ]);
    for (const g of bw.slice(1)) {
      for (const a of ['dx', 'dq', 'dxv'] as const) expect(maxDiff(g[a]!, bw[0]![a]!), a).toBeLessThan(1e-9);
      for (const s of SELF_MOD_STATES) expect(maxDiff(g.dState[s], bw[0]!.dState[s]), `d${s}`).toBeLessThan(1e-9);
    }
  }); // prettier-ignore

  it('bad values are named (the kernel wrapper and the addon entry)', () => {
    const d = selfModData(1, c);
    for (const bad of [-1, Number.NaN, Infinity])
      expect(() => selfModForward(d.x, d.q, d.st, selfModOpts(c, { innerGradClip: bad }))).toThrow(
        /selfModForward: innerGradClip must be a finite number >= 0/,
      );
    const dims = { batch: 2, seqLen: 37, heads: 2, d: 8, hidden: 6, mems: 5, tokens: 3, chunkMem: 8, chunkOther: 4, momentum: 0.9, alphaBias: 1, etaBias: -1, adaptiveQ: false, readSnapshot: false };
    const n = d.x.length;
    const g = (s: string) => new Float64Array(d.st[s as keyof typeof d.st].length);
    const arrays = { x: d.x, q: d.q, ...d.st, o: new Float64Array(n), w1Out: g('w1'), w2Out: g('w2'), s1Out: g('s1'), s2Out: g('s2'), a1Out: g('a1'), a2Out: g('a2') };
    expect(() => native.selfModForward(arrays, { ...dims, innerGradClip: -0.5 })).toThrow(/nl\.selfModForward: dims\.innerGradClip must be a finite number >= 0, got -0\.5/);
    expect(() => native.selfModForward(arrays, { ...dims, innerGradClip: Infinity })).toThrow(/dims\.innerGradClip must be a finite number/);
  }); // prettier-ignore
});
