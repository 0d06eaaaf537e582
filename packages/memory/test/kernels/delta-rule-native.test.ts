/**
 * The fused native gated-delta-rule kernels against the token-by-token reference: outputs, final
 * state and every gradient, over odd T, T < C, T % C != 0, zero/one gates and C in {1, 16, 64},
 * in float64 (tight) and float32 (looser); chunk-size invariance; bad input.
 */
import { describe, expect, it } from 'vitest';
import { native } from '@nl/native';
import {
  deltaRuleBackward,
  deltaRuleBackwardReference,
  deltaRuleForward,
  deltaRuleReference,
  type DeltaRuleInputs,
} from '../../src/kernels/index.js';
import { assertClose, f32, normalizeRows, randArray, rng } from './helpers.js';

type GateMode = 'random' | 'alpha0' | 'alpha1' | 'beta0' | 'beta1' | 'mixed';

function makeInputs(
  seed: number,
  B: number,
  T: number,
  H: number,
  dk: number,
  dv: number,
  gates: GateMode = 'random',
): DeltaRuleInputs<Float64Array> {
  const r = rng(seed);
  const n = B * T * H;
  const x = {
    q: randArray(n * dk, r),
    k: normalizeRows(randArray(n * dk, r), dk),
    v: randArray(n * dv, r),
    alpha: randArray(n, r, (u) => 0.8 + 0.2 * Math.abs(u)),
    beta: randArray(n, r, (u) => Math.abs(u)),
    s0: randArray(B * H * dk * dv, r, (u) => 0.5 * u),
    shape: { batch: B, seqLen: T, heads: H, dk, dv },
  };
  if (gates === 'alpha0') x.alpha.fill(0);
  if (gates === 'alpha1') x.alpha.fill(1);
  if (gates === 'beta0') x.beta.fill(0);
  if (gates === 'beta1') x.beta.fill(1);
  if (gates === 'mixed') {
    for (let i = 0; i < n; i += 3) x.alpha[i] = 0;
    for (let i = 1; i < n; i += 4) x.beta[i] = 1;
    for (let i = 2; i < n; i += 5) x.beta[i] = 0;
  }
  return x;
}

function toF32(x: DeltaRuleInputs<Float64Array>): DeltaRuleInputs<Float32Array> {
  return {
    ...x,
    q: f32(x.q),
    k: f32(x.k),
    v: f32(x.v),
    alpha: f32(x.alpha),
    beta: f32(x.beta),
    s0: f32(x.s0!),
  };
}

const TOL64 = { atol: 1e-11, ratio: 1e-12 };
const TOL32 = { atol: 1e-5, ratio: 5e-5 };

const cases: [string, number, number, number, number, number, number, GateMode][] = [
  // id, B, T, H, Dk, Dv, C, gates
  ['B2-T37-H3-K8-V6-C16', 2, 37, 3, 8, 6, 16, 'random'],
  ['B2-T37-H3-K8-V6-C1', 2, 37, 3, 8, 6, 1, 'random'],
  ['B1-T150-H2-K16-V12-C64', 1, 150, 2, 16, 12, 64, 'random'],
  ['B1-T5-H2-K7-V5-C16 (T<C)', 1, 5, 2, 7, 5, 16, 'random'],
  ['B1-T1-H1-K4-V4-C64', 1, 1, 1, 4, 4, 64, 'random'],
  ['B1-T64-H2-K8-V8-C64 (T=C)', 1, 64, 2, 8, 8, 64, 'random'],
  ['alpha=0 C16', 1, 33, 2, 6, 5, 16, 'alpha0'],
  ['alpha=1 C16', 1, 33, 2, 6, 5, 16, 'alpha1'],
  ['beta=0 C16', 1, 33, 2, 6, 5, 16, 'beta0'],
  ['beta=1 C16', 1, 33, 2, 6, 5, 16, 'beta1'],
  ['mixed 0/1 gates C16', 2, 41, 2, 6, 5, 16, 'mixed'],
];

describe.each(cases)('deltaRule native vs reference: %s', (_id, B, T, H, dk, dv, C, gates) => {
  const x = makeInputs(T * 7 + dk, B, T, H, dk, dv, gates);
  const r = rng(5);
  const dO = randArray(B * T * H * dv, r);
  const dState = randArray(B * H * dk * dv, r);
  const ref = deltaRuleReference(x);
  const gref = deltaRuleBackwardReference(x, { dO, dState });

  it('float64: outputs, final state and every gradient', () => {
    const y = deltaRuleForward(x, { chunkSize: C });
    expect(y.o).toBeInstanceOf(Float64Array);
    assertClose('o', y.o, ref.o, TOL64);
    assertClose('state', y.state, ref.state, TOL64);
    const g = deltaRuleBackward(x, { dO, dState }, { chunkSize: C });
    for (const name of ['dq', 'dk', 'dv', 'dAlpha', 'dBeta', 'dS0'] as const)
      assertClose(name, g[name], gref[name], TOL64);
  });

  it('float32: outputs, final state and every gradient', () => {
    const x32 = toF32(x);
    const y = deltaRuleForward(x32, { chunkSize: C });
    expect(y.o).toBeInstanceOf(Float32Array);
    assertClose('o', y.o, ref.o, TOL32);
    assertClose('state', y.state, ref.state, TOL32);
    const g = deltaRuleBackward(x32, { dO: f32(dO), dState: f32(dState) }, { chunkSize: C });
    for (const name of ['dq', 'dk', 'dv', 'dAlpha', 'dBeta', 'dS0'] as const)
      assertClose(name, g[name], gref[name], TOL32);
  });
});

describe('deltaRule native: exact tiling', () => {
  it('does not depend on the chunk size (1, 16, 64, 100) at D = 64', () => {
    const x = makeInputs(77, 1, 131, 2, 64, 64);
    const base = deltaRuleForward(x, { chunkSize: 1 });
    for (const C of [16, 64, 100]) {
      const y = deltaRuleForward(x, { chunkSize: C });
      assertClose(`o C=${C}`, y.o, base.o, TOL64);
      assertClose(`state C=${C}`, y.state, base.state, TOL64);
    }
  });

  it('one call equals two calls with the state carried', () => {
    const x = makeInputs(8, 1, 40, 2, 5, 4);
    const whole = deltaRuleForward(x, { chunkSize: 16 });
    const cut = 23;
    const part = (lo: number, hi: number, s0: Float64Array) => {
      const sl = (a: Float64Array, d: number) => a.slice(lo * 2 * d, hi * 2 * d);
      return deltaRuleForward(
        {
          q: sl(x.q, 5),
          k: sl(x.k, 5),
          v: sl(x.v, 4),
          alpha: sl(x.alpha, 1),
          beta: sl(x.beta, 1),
          s0,
          shape: { ...x.shape, seqLen: hi - lo },
        },
        { chunkSize: 16 },
      );
    };
    const a = part(0, cut, x.s0!);
    const b = part(cut, 40, a.state);
    assertClose('o', [...a.o, ...b.o], whole.o, TOL64);
    assertClose('state', b.state, whole.state, TOL64);
  });

  it('T = 0 returns the initial state and zero gradients but dState', () => {
    const x = makeInputs(9, 1, 0, 2, 3, 3);
    const y = deltaRuleForward(x);
    assertClose('state', y.state, x.s0!, { atol: 0, ratio: 0 });
    const dState = randArray(18, rng(1));
    const g = deltaRuleBackward(x, { dO: new Float64Array(0), dState });
    assertClose('dS0', g.dS0, dState, { atol: 0, ratio: 0 });
  });
});

describe('deltaRule native: bad input', () => {
  const x = makeInputs(3, 1, 6, 2, 4, 3);
  it('names mismatched head dims', () => {
    expect(() => deltaRuleForward({ ...x, shape: { ...x.shape, dk: 5 } })).toThrow(
      /nl\.deltaRuleForward: q must have 60 elements for shape \[1, 6, 2, 5\]/,
    );
    expect(() => deltaRuleForward({ ...x, v: new Float64Array(4) })).toThrow(/v must have 36 elements/);
  });
  it('rejects non-finite gates', () => {
    const beta = Float64Array.from(x.beta);
    beta[5] = Infinity;
    expect(() => deltaRuleForward({ ...x, beta })).toThrow(/beta\[0, 2, 1\] is not finite/);
  });
  it('rejects chunk size 0 and mixed dtypes', () => {
    expect(() => deltaRuleForward(x, { chunkSize: 0 })).toThrow(
      /chunkSize must be a positive integer, got 0/,
    );
    expect(() => deltaRuleForward({ ...x, v: f32(x.v) } as DeltaRuleInputs)).toThrow(/share a dtype/);
  });
  it('the addon checks its own arguments too (struct fields, named in every error)', () => {
    const { batch: B, seqLen: T, heads: H, dk, dv } = x.shape;
    const o = new Float64Array(B * T * H * dv);
    const state = new Float64Array(B * H * dk * dv);
    const alpha = Float64Array.from(x.alpha);
    alpha[0] = NaN;
    const arrays = { q: x.q, k: x.k, v: x.v, alpha: x.alpha, beta: x.beta, o, state };
    const dims = { batch: B, seqLen: T, heads: H, dk, dv, chunkSize: 16 };
    expect(() => native.deltaRuleForward({ ...arrays, alpha }, dims)).toThrow(
      /nl\.deltaRuleForward: alpha\[0, 0, 0\] is not finite/,
    );
    expect(() => native.deltaRuleForward(arrays, { ...dims, chunkSize: 0 })).toThrow(
      /nl\.deltaRuleForward: dims\.chunkSize must be an integer >= 1, got 0/,
    );
    expect(() => native.deltaRuleForward(arrays, { ...dims, dk: dk + 1 })).toThrow(
      /arrays\.q must have \d+ elements for \[B, T, H, Dk\]/,
    );
    expect(() => native.deltaRuleForward({ ...arrays, o: new Float32Array(o.length) }, dims)).toThrow(
      /arrays\.o is a Float32Array .* share a dtype/,
    );
    const { heads: _h, ...noHeads } = dims;
    expect(() => native.deltaRuleForward(arrays, noHeads as typeof dims)).toThrow(
      /nl\.deltaRuleForward: dims\.heads is missing \(expected an integer >= 1\)/,
    );
    expect(() => native.deltaRuleForward(arrays, { ...dims, erase: 'yes' as unknown as boolean })).toThrow(
      /dims\.erase must be a boolean, got a string/,
    );
    const { state: _s, ...noState } = arrays;
    expect(() => native.deltaRuleForward(noState as typeof arrays, dims)).toThrow(
      /arrays\.state is missing \(expected a Float32Array or Float64Array of \[B, H, Dk, Dv\]/,
    );
    expect(() => native.deltaRuleForward({ ...arrays, S0: state } as typeof arrays, dims)).toThrow(
      /arrays\.S0 is not a field of deltaRuleForward arrays/,
    );
    expect(() => (native.deltaRuleForward as (...a: unknown[]) => void)(x.q, dims)).toThrow(
      /argument 1 \(arrays\) must be an object of named fields/,
    );
  });
});

describe.each([
  ['B2-T37-H3-K8-V6-C16', 2, 37, 3, 8, 6, 16, 'random'],
  ['B1-T23-H2-K5-V7-C1', 1, 23, 2, 5, 7, 1, 'random'],
  ['B1-T150-H2-K16-V12-C64', 1, 150, 2, 16, 12, 64, 'random'],
  ['B1-T5-H2-K7-V5-C16 (T<C)', 1, 5, 2, 7, 5, 16, 'random'],
  ['mixed 0/1 gates C16', 2, 41, 2, 6, 5, 16, 'mixed'],
] as [string, number, number, number, number, number, number, GateMode][])(
  'deltaRule native vs reference, snapshot correction (mini-batch): %s',
  (_id, B, T, H, dk, dv, C, gates) => {
    const x = makeInputs(T * 5 + dk, B, T, H, dk, dv, gates);
    const opts = { chunkSize: C, snapshot: true };
    const r = rng(6);
    const dO = randArray(B * T * H * dv, r);
    const dState = randArray(B * H * dk * dv, r);
    const ref = deltaRuleReference(x, opts);
    const gref = deltaRuleBackwardReference(x, { dO, dState }, opts);
    it('float64 and float32: outputs, final state and every gradient', () => {
      const y = deltaRuleForward(x, opts);
      assertClose('o', y.o, ref.o, TOL64);
      assertClose('state', y.state, ref.state, TOL64);
      const g = deltaRuleBackward(x, { dO, dState }, opts);
      for (const name of ['dq', 'dk', 'dv', 'dAlpha', 'dBeta', 'dS0'] as const)
        assertClose(name, g[name], gref[name], TOL64);
      const x32 = toF32(x);
      const y32 = deltaRuleForward(x32, opts);
      assertClose('o f32', y32.o, ref.o, TOL32);
      const g32 = deltaRuleBackward(x32, { dO: f32(dO), dState: f32(dState) }, opts);
      for (const name of ['dq', 'dk', 'dv', 'dAlpha', 'dBeta', 'dS0'] as const)
        assertClose(`${name} f32`, g32[name], gref[name], TOL32);
    });
  },
);

describe('deltaRule native: the snapshot correction depends on the chunk size', () => {
  it('C = 4 and C = 16 differ (mini-batch semantics), each matching its reference', () => {
    const x = makeInputs(12, 1, 32, 1, 4, 4);
    const a = deltaRuleForward(x, { chunkSize: 4, snapshot: true });
    const b = deltaRuleForward(x, { chunkSize: 16, snapshot: true });
    expect(Math.abs(a.o[a.o.length - 1] - b.o[b.o.length - 1])).toBeGreaterThan(1e-6);
  });
});
