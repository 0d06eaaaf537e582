/**
 * The fused SelfModifyingTitans forward in chunk ("dual") form (native/src/cpu/self_mod_dual.h,
 * `dual: true`, the default) against the token recurrence (`dual: false`) in float64: outputs,
 * final states and the block-start states kept for the backward, within 1e-9 of the values' scale,
 * over segment boundaries (chunks of 1, odd chunks, chunks longer than the call), calls that start
 * mid-chunk, states carried from call to call, adaptiveQ, readSnapshot and momentum 0; the
 * backward in chunk form (native/src/cpu/self_mod_dual_backward.h, `dual: true`) against the token
 * backward (`dual: false`), given either forward's kept states or none, every gradient (dx, dq and
 * the initial-state gradients, with adjoints of all six final states) within 1e-9; float32 dual
 * agrees with float64; a non-boolean `dual` is named.
 */
import { describe, expect, it } from 'vitest';
import {
  selfModBackward,
  selfModForward,
  SELF_MOD_STATES,
  type SelfModOptions,
  type SelfModStates,
} from '../../src/kernels/index.js';
import { randArray, rng } from './helpers.js';

interface Case {
  B: number;
  T: number;
  H: number;
  D: number;
  Dh: number;
  o: Partial<SelfModOptions>;
}

const base = {
  tokens: 0,
  chunkMem: 8,
  chunkOther: 4,
  momentum: 0.9,
  alphaBias: 4,
  etaBias: -2,
  adaptiveQ: false,
  readSnapshot: false,
};

function opts(c: Case, dual: boolean, extra: Partial<SelfModOptions> = {}): SelfModOptions {
  return { ...base, ...c.o, ...extra, batch: c.B, seqLen: c.T, heads: c.H, dim: c.D, hidden: c.Dh, dual };
}

/** x, q [B, T, H, D] and six states as float64 arrays (small scales: a well-conditioned recurrence). */
function data(seed: number, c: Case) {
  const r = rng(seed);
  const M = c.o.adaptiveQ ? 6 : 5;
  const n = c.B * c.T * c.H * c.D;
  const ns = c.B * M * c.H * c.D * c.Dh;
  const scale = { w1: 0.1, w2: 0.3, s1: 0.01, s2: 0.01, a1: 0.1, a2: 0.3 };
  const st = {} as SelfModStates<Float64Array>;
  for (const s of SELF_MOD_STATES) st[s] = randArray(ns, r, (u) => scale[s] * u);
  return { x: randArray(n, r, (u) => 0.5 * u), q: randArray(n, r, (u) => 0.5 * u), st };
}

/** max |got − ref| / (1 + max |ref|) below tol. */
function near(name: string, got: ArrayLike<number>, ref: ArrayLike<number>, tol: number): void {
  expect(got.length, `${name}: length`).toBe(ref.length);
  let d = 0;
  let s = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(got[i]! - ref[i]!);
    if (!(e <= d)) d = e; // NaN propagates
    s = Math.max(s, Math.abs(ref[i]!));
  }
  expect(d / (1 + s), `${name}: max diff ${d.toExponential(3)} (scale ${s.toExponential(3)})`).toBeLessThan(
    tol,
  );
}

/** Adjoints of all six final states (random, scaled like the states). */
function finalAdjoints(st: SelfModStates<Float64Array>, seed: number): SelfModStates<Float64Array> {
  const r = rng(seed);
  const out = {} as SelfModStates<Float64Array>;
  for (const s of SELF_MOD_STATES) out[s] = randArray(st[s].length, r, (u) => 0.5 * u);
  return out;
}

const cases: [string, Case][] = [
  ['hope-tiny-like pieces (chunkMem 32, chunkOther 16), B 2, H 2', { B: 2, T: 70, H: 2, D: 32, Dh: 16, o: { chunkMem: 32, chunkOther: 16 } }],
  ['starts mid-chunk, odd chunks, backward blocks of 5', { B: 1, T: 41, H: 2, D: 8, Dh: 6, o: { tokens: 7, chunkMem: 5, chunkOther: 3, block: 5 } }],
  ['chunks of 1 (every token a piece)', { B: 1, T: 12, H: 1, D: 6, Dh: 4, o: { chunkMem: 1, chunkOther: 1 } }],
  ['chunks longer than the call, one 64-token block', { B: 1, T: 50, H: 1, D: 16, Dh: 8, o: { chunkMem: 100, chunkOther: 64, block: 64 } }],
  ['adaptiveQ + readSnapshot, tokens 3', { B: 2, T: 23, H: 1, D: 10, Dh: 5, o: { tokens: 3, adaptiveQ: true, readSnapshot: true } }],
  ['adaptiveQ (reads after the write)', { B: 1, T: 19, H: 2, D: 8, Dh: 4, o: { adaptiveQ: true, chunkMem: 6, chunkOther: 4 } }],
  ['readSnapshot alone, odd block', { B: 1, T: 19, H: 1, D: 8, Dh: 12, o: { readSnapshot: true, chunkMem: 6, chunkOther: 4, block: 7 } }],
  ['momentum 0', { B: 1, T: 30, H: 2, D: 12, Dh: 6, o: { momentum: 0, chunkMem: 6, chunkOther: 4 } }],
]; // prettier-ignore

describe('SelfModifyingTitans forward in chunk (dual) form == token recurrence (float64)', () => {
  for (const [name, c] of cases) {
    it(name, () => {
      const d = data(5, c);
      const tok = selfModForward(d.x, d.q, d.st, opts(c, false), true);
      const dual = selfModForward(d.x, d.q, d.st, opts(c, true), true);
      expect(Math.max(...tok.o.map(Math.abs))).toBeLessThan(100); // a well-conditioned run
      near('o', dual.o, tok.o, 1e-9);
      for (const s of SELF_MOD_STATES) near(s, dual.state[s], tok.state[s], 1e-9);
      near('ckpt', dual.ckpt!, tok.ckpt!, 1e-9);
      // the backward from either forward's block-start states, and recomputing them in either form
      // the backward in either form, from either forward's block-start states or recomputing them
      const dO = randArray(d.x.length, rng(6));
      const dEnd = finalAdjoints(d.st, 7);
      const g0 = selfModBackward(d.x, d.q, d.st, dO, dEnd, opts(c, false), tok.ckpt);
      const runs = [
        selfModBackward(d.x, d.q, d.st, dO, dEnd, opts(c, true), dual.ckpt),
        selfModBackward(d.x, d.q, d.st, dO, dEnd, opts(c, true), tok.ckpt),
        selfModBackward(d.x, d.q, d.st, dO, dEnd, opts(c, true)),
        selfModBackward(d.x, d.q, d.st, dO, {}, opts(c, true)),
      ];
      const gNoEnd = selfModBackward(d.x, d.q, d.st, dO, {}, opts(c, false));
      runs.forEach((g, i) => {
        const ref = i === 3 ? gNoEnd : g0;
        near('dx', g.dx, ref.dx, 1e-9);
        near('dq', g.dq, ref.dq, 1e-9);
        for (const s of SELF_MOD_STATES) near(`d${s}`, g.dState[s], ref.dState[s], 1e-9);
      });
      expect(Math.max(...g0.dx.map(Math.abs))).toBeGreaterThan(1e-3); // gradients that can differ
    });
  }

  it('states carried over three calls (the later ones start mid-chunk) == one token-form call', () => {
    const c: Case = { B: 1, T: 45, H: 2, D: 8, Dh: 4, o: { chunkMem: 8, chunkOther: 4 } };
    const d = data(9, c);
    const whole = selfModForward(d.x, d.q, d.st, opts(c, false));
    const cuts = [0, 11, 30, 45];
    let st = d.st;
    const outs: number[] = [];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const [a, b] = [cuts[i]!, cuts[i + 1]!];
      const row = c.H * c.D; // elements per token (B = 1)
      const part: Case = { ...c, T: b - a };
      const y = selfModForward(
        d.x.slice(a * row, b * row),
        d.q.slice(a * row, b * row),
        st,
        opts(part, true, { tokens: a }),
      );
      outs.push(...y.o);
      st = y.state;
    }
    near('o', outs, whole.o, 1e-9);
    for (const s of SELF_MOD_STATES) near(s, st[s], whole.state[s], 1e-9);
  });

  it('backward of a later call (carried states, starts mid-chunk): chunk form == token form', () => {
    const c: Case = {
      B: 2,
      T: 27,
      H: 2,
      D: 8,
      Dh: 8,
      o: { tokens: 11, chunkMem: 8, chunkOther: 4, block: 16 },
    };
    const d = data(21, c);
    const carried = selfModForward(d.x, d.q, d.st, opts(c, true, { tokens: 0 })).state; // states after a first call
    const dO = randArray(d.x.length, rng(22));
    const dEnd = finalAdjoints(d.st, 23);
    const tok = selfModBackward(d.x, d.q, carried, dO, dEnd, opts(c, false));
    const dual = selfModBackward(d.x, d.q, carried, dO, dEnd, opts(c, true));
    near('dx', dual.dx, tok.dx, 1e-9);
    near('dq', dual.dq, tok.dq, 1e-9);
    for (const s of SELF_MOD_STATES) near(`d${s}`, dual.dState[s], tok.dState[s], 1e-9);
  });

  it('float32 dual agrees with float64', () => {
    const c = cases[0]![1];
    const d = data(13, c);
    const st32 = {} as SelfModStates<Float32Array>;
    for (const s of SELF_MOD_STATES) st32[s] = Float32Array.from(d.st[s]);
    const y64 = selfModForward(d.x, d.q, d.st, opts(c, false));
    const y32 = selfModForward(Float32Array.from(d.x), Float32Array.from(d.q), st32, opts(c, true));
    expect(y32.o).toBeInstanceOf(Float32Array);
    expect(Math.max(...y64.o.map(Math.abs))).toBeLessThan(100); // a well-conditioned run
    near('o', y32.o, y64.o, 1e-5);
    for (const s of SELF_MOD_STATES) near(s, y32.state[s], y64.state[s], 1e-5);
  });

  it('a non-boolean dual is named', () => {
    const c = cases[2]![1];
    const d = data(1, c);
    const bad = { ...opts(c, true), dual: 1 as unknown as boolean };
    expect(() => selfModForward(d.x, d.q, d.st, bad)).toThrow(/selfModForward: dims\.dual must be a boolean/);
  });
});
