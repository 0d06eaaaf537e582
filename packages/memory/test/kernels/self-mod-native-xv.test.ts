/**
 * The fused SelfModifyingTitans kernels' optional value input xv (generator v reads xv instead of x;
 * the backward returns dxv): gradcheck of every op input (x, q, the six carried states and xv)
 * against central differences through all outputs, in chunk ("dual") form and token form; token
 * form == chunk form with xv (o, final states, dx, dq, dxv and the initial-state gradients within
 * 1e-9, with and without the forward's kept block-start states, several backward blocks); xv = x
 * splits x's gradient exactly (dx without xv == dx + dxv with xv); no xv gives no dxv; bad input
 * (xv's shape / dtype, dxv missing or given alone, on the addon's own entry point) is named.
 * (Equality with 'chunked' / 'loop' through the module: test/modules/self-modifying-value-input-fused.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { native } from '@nl/native';
import { gradcheck, tensor, type Tensor } from '@nl/tensor';
import {
  selfModBackward,
  selfModForward,
  SELF_MOD_STATES,
  type SelfModStates,
} from '../../src/kernels/index.js';
import { fusedSelfMod } from '../../src/modules/self-modifying-fused.js';
import { assertClose, randArray, rng } from './helpers.js';
import { SELF_MOD_BASE, selfModData, selfModOpts, type SelfModCase } from './self-mod-cases.js';

type Case = SelfModCase;
/** x, q, xv [B, T, H, D] and six states as float64 arrays. */
const data = (seed: number, c: Case) => {
  const d = selfModData(seed, c, true);
  return { ...d, xv: d.xv! };
};
const opts = selfModOpts;

const tight = { atol: 1e-9, ratio: 1e-9 };
const base = SELF_MOD_BASE;

describe('fused SelfModifyingTitans op with xv: gradcheck (every input, xv included)', () => {
  const cases: [string, Case][] = [
    ['chunk form, starts mid-chunk', { B: 1, T: 7, H: 1, D: 3, Dh: 2, attrs: { ...base, tokens: 4 } }],
    ['token form, backward blocks of 2', { B: 1, T: 7, H: 1, D: 3, Dh: 2, attrs: { ...base, tokens: 4, dual: false, block: 2 } }],
    ['chunk form, B 2, H 2, momentum 0, chunk 1 for mem', { B: 2, T: 5, H: 2, D: 2, Dh: 3, attrs: { ...base, chunkMem: 1, momentum: 0 } }],
    ['token form, adaptiveQ + readSnapshot', { B: 1, T: 6, H: 1, D: 3, Dh: 2, attrs: { ...base, tokens: 1, adaptiveQ: true, readSnapshot: true, dual: false } }],
  ]; // prettier-ignore
  for (const [name, c] of cases) {
    it(name, () => {
      const d = data(7, c);
      const t = (a: Float64Array, shape: number[], g = true): Tensor =>
        tensor(Array.from(a), { shape, dtype: 'float64', requiresGrad: g });
      const ins: Tensor[] = [
        t(d.x, d.seq),
        t(d.q, d.seq, !c.attrs.adaptiveQ),
        ...SELF_MOD_STATES.map((s) => t(d.st[s], d.shape(s))),
        t(d.xv, d.seq),
      ];
      const r = gradcheck((x, q, ...rest) => fusedSelfMod(x!, q!, rest.slice(0, 6), c.attrs, rest[6]), ins, {
        atol: 1e-6,
        rtol: 1e-5,
      });
      expect(r.checked).toBeGreaterThan(0);
    });
  }
});

describe('fused SelfModifyingTitans kernels with xv', () => {
  const c: Case = {
    B: 2,
    T: 37,
    H: 2,
    D: 8,
    Dh: 6,
    attrs: { ...base, chunkMem: 8, chunkOther: 4, tokens: 3 },
  };
  const cq: Case = { ...c, T: 21, attrs: { ...c.attrs, adaptiveQ: true, readSnapshot: true } };

  for (const [name, k] of [['plain', c], ['adaptiveQ + readSnapshot', cq]] as const)
    it(`token form == chunk form (${name}; kept states or none; blocks 5, auto)`, () => {
      const d = data(3, k);
      const r = rng(4);
      const dO = randArray(d.x.length, r);
      const dEnd = {} as SelfModStates<Float64Array>;
      for (const s of SELF_MOD_STATES) dEnd[s] = randArray(d.st[s].length, r);
      for (const block of [5, 0]) {
        const fw = [true, false].map((dual) => selfModForward(d.x, d.q, d.st, opts(k, { dual, block }), true, undefined, d.xv));
        assertClose('o', fw[1]!.o, fw[0]!.o, tight);
        for (const s of SELF_MOD_STATES) assertClose(s, fw[1]!.state[s], fw[0]!.state[s], tight);
        const bw = [true, false].flatMap((dual, i) => [
          selfModBackward(d.x, d.q, d.st, dO, dEnd, opts(k, { dual, block }), fw[i]!.ckpt, undefined, d.xv),
          selfModBackward(d.x, d.q, d.st, dO, dEnd, opts(k, { dual, block }), undefined, undefined, d.xv),
        ]);
        for (const g of bw.slice(1)) {
          for (const a of ['dx', 'dq', 'dxv'] as const) assertClose(a, g[a]!, bw[0]![a]!, tight);
          for (const s of SELF_MOD_STATES) assertClose(`d${s}`, g.dState[s], bw[0]!.dState[s], tight);
        }
        expect(Math.max(...bw[0]!.dxv!.map(Math.abs))).toBeGreaterThan(1e-3);
      }
    }); // prettier-ignore

  for (const dual of [true, false])
    it(`xv = x splits x's gradient: dx without xv == dx + dxv with xv (${dual ? 'chunk' : 'token'} form)`, () => {
      const d = data(8, c);
      const dO = randArray(d.x.length, rng(9));
      const o = opts(c, { dual });
      const plain = selfModForward(d.x, d.q, d.st, o);
      const withXv = selfModForward(d.x, d.q, d.st, o, false, undefined, d.x);
      expect(Array.from(withXv.o)).toEqual(Array.from(plain.o));
      const a = selfModBackward(d.x, d.q, d.st, dO, {}, o);
      const b = selfModBackward(d.x, d.q, d.st, dO, {}, o, undefined, undefined, d.x);
      expect(a.dxv).toBeUndefined();
      assertClose(
        'dx',
        b.dx.map((v, i) => v + b.dxv![i]!),
        a.dx,
        { atol: 1e-12, ratio: 1e-12 },
      );
      assertClose('dq', b.dq, a.dq, { atol: 1e-12, ratio: 1e-12 });
      for (const s of SELF_MOD_STATES)
        assertClose(`d${s}`, b.dState[s], a.dState[s], { atol: 1e-12, ratio: 1e-12 });
      // a different xv changes the output and moves generator v's share of dx to dxv
      const other = selfModForward(d.x, d.q, d.st, o, false, undefined, d.xv);
      expect(Math.max(...other.o.map((v, i) => Math.abs(v - plain.o[i]!)))).toBeGreaterThan(1e-3);
    });

  it('bad input: clear errors (xv shape and dtype; dxv missing or given alone on the addon entry)', () => {
    const d = data(1, c);
    const o = opts(c);
    expect(() => selfModForward(d.x, d.q, d.st, o, false, undefined, d.xv.subarray(1))).toThrow(/selfModForward: xv must have 1184 elements for shape \[2, 37, 2, 8\]/);
    expect(() => selfModForward(d.x, d.q, d.st, o, false, undefined, Float32Array.from(d.xv) as unknown as Float64Array)).toThrow(/selfModForward: all arrays must share a dtype, but x is Float64Array and xv is Float32Array/);
    expect(() => selfModBackward(d.x, d.q, d.st, d.x, {}, o, undefined, undefined, d.xv.subarray(2))).toThrow(/selfModBackward: xv must have 1184 elements/);
    const dims = { batch: 2, seqLen: 37, heads: 2, d: 8, hidden: 6, mems: 5, tokens: 3, chunkMem: 8, chunkOther: 4, momentum: 0.9, alphaBias: 1, etaBias: -1, adaptiveQ: false, readSnapshot: false };
    const n = d.x.length;
    const g = (s: string) => new Float64Array(d.st[s as keyof typeof d.st].length);
    const arrays = { x: d.x, q: d.q, ...d.st, dO: d.x, dx: new Float64Array(n), dq: new Float64Array(n), gW1: g('w1'), gW2: g('w2'), gS1: g('s1'), gS2: g('s2'), gA1: g('a1'), gA2: g('a2') };
    expect(() => native.selfModBackward({ ...arrays, xv: d.xv }, dims)).toThrow(/nl\.selfModBackward: arrays\.dxv is missing \(required with arrays\.xv/);
    expect(() => native.selfModBackward({ ...arrays, dxv: new Float64Array(n) }, dims)).toThrow(/nl\.selfModBackward: arrays\.dxv is given without arrays\.xv/);
    expect(() => native.selfModBackward({ ...arrays, xv: d.xv, dxv: new Float64Array(n - 1) }, dims)).toThrow(/nl\.selfModBackward: arrays\.dxv must have 1184 elements/);
    expect(() => native.selfModForward({ x: d.x, q: d.q, xv: d.xv.subarray(1), ...d.st, o: new Float64Array(n), w1Out: g('w1'), w2Out: g('w2'), s1Out: g('s1'), s2Out: g('s2'), a1Out: g('a1'), a2Out: g('a2') }, dims)).toThrow(/nl\.selfModForward: arrays\.xv must have 1184 elements/);
  }); // prettier-ignore
});
