/**
 * The fused SelfModifyingTitans op and its native kernels on their own: gradcheck of every input
 * (x, q and all six carried states, the call starting mid-chunk) against central differences
 * through all outputs (o and the six final states); the backward's block size does not change
 * anything, nor do the block-start states kept by the forward; float32 agrees with float64; bad input gives clear errors. (Equality with the token
 * loop: test/modules/self-modifying-fused.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { gradcheck, tensor, type Tensor } from '@nl/tensor';
import {
  selfModBackward,
  selfModCkptSize,
  selfModForward,
  SELF_MOD_STATES,
  type SelfModOptions,
  type SelfModStates,
} from '../../src/kernels/index.js';
import { fusedSelfMod } from '../../src/modules/self-modifying-fused.js';
import { assertClose, randArray, rng } from './helpers.js';
import { SELF_MOD_BASE, selfModData, selfModOpts, type SelfModCase } from './self-mod-cases.js';

type Case = SelfModCase;
const data = (seed: number, c: Case) => selfModData(seed, c);
const opts = (c: Case, block?: number): SelfModOptions =>
  selfModOpts(c, block === undefined ? {} : { block });

const tight = { atol: 1e-11, ratio: 1e-13 };
const loose = { atol: 1e-4, ratio: 2e-5 };
const base = SELF_MOD_BASE;

describe('fused SelfModifyingTitans op: gradcheck', () => {
  const cases: [string, Case][] = [
    ['starts mid-chunk, backward blocks of 2', { B: 1, T: 7, H: 1, D: 3, Dh: 2, attrs: { ...base, tokens: 4, block: 2 } }],
    ['B 2, H 2, momentum 0, chunk 1 for mem', { B: 2, T: 5, H: 2, D: 2, Dh: 3, attrs: { ...base, chunkMem: 1, momentum: 0 } }],
    ['adaptiveQ + readSnapshot, blocks of 3', { B: 1, T: 6, H: 1, D: 3, Dh: 2, attrs: { ...base, tokens: 1, adaptiveQ: true, readSnapshot: true, block: 3 } }],
  ]; // prettier-ignore
  for (const [name, c] of cases) {
    it(name, () => {
      const d = data(7, c);
      const ins: Tensor[] = [
        tensor(Array.from(d.x), { shape: d.seq, dtype: 'float64', requiresGrad: true }),
        tensor(Array.from(d.q), { shape: d.seq, dtype: 'float64', requiresGrad: !c.attrs.adaptiveQ }),
        ...SELF_MOD_STATES.map((s) =>
          tensor(Array.from(d.st[s]), { shape: d.shape(s), dtype: 'float64', requiresGrad: true }),
        ),
      ];
      const r = gradcheck((x, q, ...st) => fusedSelfMod(x!, q!, st, c.attrs), ins, {
        atol: 1e-6,
        rtol: 1e-5,
      });
      expect(r.checked).toBeGreaterThan(0);
    });
  }
});

describe('fused SelfModifyingTitans kernels', () => {
  const c: Case = {
    B: 2,
    T: 40,
    H: 2,
    D: 8,
    Dh: 6,
    attrs: { ...base, chunkMem: 8, chunkOther: 4, tokens: 3 },
  };

  it('the backward block size changes nothing (blocks 1, 5, 32, 64, auto)', () => {
    const d = data(3, c);
    const dO = randArray(d.x.length, rng(4));
    const dW2 = randArray(d.st.w2.length, rng(5));
    const runs = [1, 5, 32, 64, 0].map((block) =>
      selfModBackward(d.x, d.q, d.st, dO, { w2: dW2 }, opts(c, block)),
    );
    for (const g of runs.slice(1)) {
      assertClose('dx', g.dx, runs[0]!.dx, tight);
      assertClose('dq', g.dq, runs[0]!.dq, tight);
      for (const s of SELF_MOD_STATES) assertClose(`d${s}`, g.dState[s], runs[0]!.dState[s], tight);
    }
  });

  it("the forward's kept block-start states give the recomputing backward's result exactly", () => {
    const d = data(8, c);
    const dO = randArray(d.x.length, rng(9));
    for (const block of [0, 7]) {
      const y = selfModForward(d.x, d.q, d.st, opts(c, block), true);
      expect(y.ckpt!.length).toBe(selfModCkptSize(opts(c, block)));
      const a = selfModBackward(d.x, d.q, d.st, dO, {}, opts(c, block));
      const b = selfModBackward(d.x, d.q, d.st, dO, {}, opts(c, block), y.ckpt);
      expect(Array.from(b.dx)).toEqual(Array.from(a.dx));
      for (const s of SELF_MOD_STATES) expect(Array.from(b.dState[s])).toEqual(Array.from(a.dState[s]));
    }
    const y = selfModForward(d.x, d.q, d.st, opts(c), true);
    expect(() => selfModBackward(d.x, d.q, d.st, dO, {}, opts(c, 5), y.ckpt)).toThrow(/selfModBackward: ckpt must have/);
  }); // prettier-ignore

  it('float32 agrees with float64', () => {
    const d = data(11, c);
    const dO = randArray(d.x.length, rng(12));
    const f = (a: Float64Array) => Float32Array.from(a);
    const st32 = {} as SelfModStates<Float32Array>;
    for (const s of SELF_MOD_STATES) st32[s] = f(d.st[s]);
    const y64 = selfModForward(d.x, d.q, d.st, opts(c));
    const y32 = selfModForward(f(d.x), f(d.q), st32, opts(c));
    expect(y32.o).toBeInstanceOf(Float32Array);
    assertClose('o', y32.o, y64.o, loose);
    for (const s of SELF_MOD_STATES) assertClose(s, y32.state[s], y64.state[s], loose);
    const g64 = selfModBackward(d.x, d.q, d.st, dO, {}, opts(c));
    const g32 = selfModBackward(f(d.x), f(d.q), st32, f(dO), {}, opts(c));
    assertClose('dx', g32.dx, g64.dx, loose);
    for (const s of SELF_MOD_STATES) assertClose(`d${s}`, g32.dState[s], g64.dState[s], loose);
  });

  it('bad input: clear errors', () => {
    const d = data(1, c);
    const o = opts(c);
    expect(() => selfModForward(d.x.subarray(1), d.q, d.st, o)).toThrow(/selfModForward: x must have 1280 elements for shape \[2, 40, 2, 8\]/);
    expect(() => selfModForward(d.x, Float32Array.from(d.q) as unknown as Float64Array, d.st, o)).toThrow(/share a dtype/);
    expect(() => selfModForward(d.x, d.q, { ...d.st, a2: d.st.a2.subarray(2) }, o)).toThrow(/a2 must have 960 elements for shape \[2, 5, 2, 6, 8\]/);
    expect(() => selfModForward(d.x, d.q, d.st, { ...o, chunkMem: 0 })).toThrow(/chunkSize must be a positive integer, got 0/);
    expect(() => selfModForward(d.x, d.q, d.st, { ...o, momentum: NaN })).toThrow(/momentum must be finite/);
    expect(() => selfModForward(d.x, d.q, d.st, { ...o, hidden: 7 })).toThrow(/w1 must have/);
    expect(() => selfModForward(d.x, d.q, d.st, { ...o, adaptiveQ: true })).toThrow(/w1 must have .* \[2, 6, 2, 8, 6\]/);
    expect(() => selfModBackward(d.x, d.q, d.st, d.x, { s1: d.st.s1.subarray(1) }, o)).toThrow(/selfModBackward: ds1 must have/);
    expect(() => selfModBackward(d.x, d.q, d.st, d.x.subarray(3), {}, o)).toThrow(/dO must have/);
  }); // prettier-ignore
});
