/**
 * memory.titansLinear (the tensor-level op over the fused Titans linear-memory kernels) on 'cpu'
 * (native chunk kernels), 'sim' (the same kernels behind opaque buffers) and 'cuda' (the emulated
 * device: native/src/cuda/kernels/titans_linear.h) against the float64 token-level TS reference
 * (ref.ts, ref-backward.ts): outputs, final M, S and every gradient (q, k, v, θ, η, α, M0, S0),
 * both read orders, float32 / float64, odd T, T below one chunk and over several, a chunk-size
 * sweep, Dk ≠ Dv, absent upstream gradients, T = 0, pieces cut at chunk boundaries == one call;
 * bad calls to the CUDA entry points.
 */
import { native } from '@nl/native';
import { cat, mul, narrow, tensor, type Tensor } from '@nl/tensor';
import { cudaPointer } from '@nl/tensor/internal';
import { assertClose, enableCudaEmulation, enableSimDevice } from '@nl/tensor/testing';
import { describe, expect, it } from 'vitest';
import { fusedTitansLinear } from '../src/modules/fused-titans-linear.js';
import { titansLinearBackwardReference, titansLinearReference } from '../src/kernels/index.js';
import { randArr, rng } from './modules/helpers.js';

enableCudaEmulation();
enableSimDevice();

type DT = 'float32' | 'float64';
type Dev = 'cpu' | 'sim' | 'cuda';
interface Case {
  B: number;
  T: number;
  H: number;
  dk: number;
  dv: number;
}
interface Opts {
  chunkSize: number;
  readAfterWrite: boolean;
  drop?: 'o' | 'states';
}

const INPUTS = ['q', 'k', 'v', 'theta', 'eta', 'alpha', 'm0', 's0'] as const;
const GRADS = ['dq', 'dk', 'dv', 'dTheta', 'dEta', 'dAlpha', 'dM0', 'dS0'] as const;

function data(c: Case, seed: number) {
  const r = rng(seed);
  const n = c.B * c.T * c.H;
  const w = c.B * c.H * c.dv * c.dk;
  const s = 1 / Math.sqrt(c.dk);
  const d = {
    q: randArr(r, n * c.dk),
    k: randArr(r, n * c.dk, -s, s),
    v: randArr(r, n * c.dv),
    theta: randArr(r, n, 0, 0.5),
    eta: randArr(r, n, 0.5, 0.95),
    alpha: randArr(r, n, 0, 0.2),
    m0: randArr(r, w, -0.5, 0.5),
    s0: randArr(r, w, -0.2, 0.2),
    lo: randArr(r, n * c.dv),
    lm: randArr(r, w),
    ls: randArr(r, w),
  };
  if (n > 3) {
    d.alpha[1] = 1; // gates at their ends
    d.eta[2] = 0;
    d.theta[3] = 0;
  }
  return d;
}
type Data = ReturnType<typeof data>;

function run(device: Dev, dtype: DT, c: Case, d: Data, o: Opts) {
  const row = (w: number) => [c.B, c.T, c.H, w];
  const gate = [c.B, c.T, c.H],
    st = [c.B, c.H, c.dv, c.dk];
  const shapes = [row(c.dk), row(c.dk), row(c.dv), gate, gate, gate, st, st];
  const ins = INPUTS.map((n, i) =>
    tensor(Array.from(d[n]), { shape: shapes[i]!, dtype, device, requiresGrad: true }),
  );
  const [out, m, s] = fusedTitansLinear(ins, { chunkSize: o.chunkSize, readAfterWrite: o.readAfterWrite });
  const weight = (a: Float64Array, t: Tensor) =>
    mul(t, tensor(Array.from(a), { shape: t.shape, dtype, device })).sum();
  const lo = weight(d.lo, out),
    ls = weight(d.lm, m).add(weight(d.ls, s));
  (o.drop === 'o' ? ls : o.drop === 'states' ? lo : lo.add(ls)).backward();
  return {
    values: [out, m, s].map((t) => Array.from(t.dataSync())),
    grads: ins.map((x) => Array.from(x.grad!.dataSync())),
  };
}

function reference(c: Case, d: Data, o: Opts) {
  const x = { q: d.q, k: d.k, v: d.v, theta: d.theta, eta: d.eta, alpha: d.alpha, m0: d.m0, s0: d.s0, shape: { batch: c.B, seqLen: c.T, heads: c.H, dk: c.dk, dv: c.dv } }; // prettier-ignore
  const opts = { chunkSize: o.chunkSize, readAfterWrite: o.readAfterWrite };
  const f = titansLinearReference(x, opts);
  const z = (a: Float64Array) => new Float64Array(a.length);
  const g = titansLinearBackwardReference(
    x,
    {
      dO: o.drop === 'o' ? z(d.lo) : d.lo,
      dM: o.drop === 'states' ? z(d.lm) : d.lm,
      dS: o.drop === 'states' ? z(d.ls) : d.ls,
    },
    opts,
  );
  return { values: [f.o, f.m, f.s].map((a) => Array.from(a)), grads: GRADS.map((n) => Array.from(g[n])) };
}

const tol = (dtype: DT) => (dtype === 'float32' ? { rtol: 5e-4, atol: 5e-5 } : { rtol: 1e-9, atol: 1e-11 });

function compare(dtype: DT, c: Case, o: Opts, seed = 5) {
  const d = data(c, seed);
  const ref = reference(c, d, o);
  const runs = (['cpu', 'sim', 'cuda'] as const).map((dev) => [dev, run(dev, dtype, c, d, o)] as const);
  for (const [dev, r] of runs) {
    ['o', 'M', 'S'].forEach((n, i) =>
      assertClose(`${n} on ${dev}`, ref.values[i]!, r.values[i]!, tol(dtype)),
    );
    GRADS.forEach((n, i) => assertClose(`${n} on ${dev}`, ref.grads[i]!, r.grads[i]!, tol(dtype)));
  }
  const [cpu, sim] = [runs[0][1], runs[1][1]];
  expect(sim).toEqual(cpu); // sim runs the cpu kernels: bit for bit
  return runs[2][1];
}

const CASES: [string, Case, number][] = [
  ['odd T below one chunk', { B: 1, T: 5, H: 1, dk: 3, dv: 4 }, 16],
  ['T over several chunks, B, H > 1, Dk < Dv', { B: 2, T: 11, H: 2, dk: 4, dv: 6 }, 4],
  ['Dk > Dv, T a multiple of the chunk', { B: 1, T: 8, H: 2, dk: 7, dv: 3 }, 4],
  ['chunk 1', { B: 1, T: 6, H: 1, dk: 3, dv: 3 }, 1],
  ['wider than one block of threads', { B: 1, T: 4, H: 1, dk: 40, dv: 70 }, 2],
  ['one token', { B: 2, T: 1, H: 2, dk: 3, dv: 2 }, 64],
  ['more rows than threads (256)', { B: 1, T: 3, H: 1, dk: 3, dv: 300 }, 2],
  ['more columns than threads (256)', { B: 1, T: 3, H: 1, dk: 270, dv: 2 }, 2],
];

describe('memory.titansLinear on cpu, sim and cuda == float64 reference', () => {
  for (const dtype of ['float64', 'float32'] as const)
    for (const readAfterWrite of [true, false])
      for (const [name, c, chunkSize] of CASES)
        it(`${dtype}, readAfterWrite ${readAfterWrite}: ${name}`, () =>
          compare(dtype, c, { chunkSize, readAfterWrite }));

  it('chunk-size sweep (each size against its own reference; chunk >= T is one chunk)', () => {
    const c = { B: 1, T: 13, H: 2, dk: 3, dv: 4 };
    const outs = [1, 2, 3, 5, 13, 100].map((chunkSize) =>
      compare('float64', c, { chunkSize, readAfterWrite: true }),
    );
    assertClose('chunk 13 == chunk 100', outs[4]!.values[0]!, outs[5]!.values[0]!, {
      rtol: 1e-12,
      atol: 1e-14,
    });
  });

  it('absent dO or absent final-state gradients (zeros)', () => {
    const c = { B: 2, T: 9, H: 1, dk: 4, dv: 3 };
    for (const dtype of ['float64', 'float32'] as const)
      for (const readAfterWrite of [true, false])
        for (const drop of ['o', 'states'] as const)
          compare(dtype, c, { chunkSize: 4, readAfterWrite, drop });
  });

  it('pieces cut at chunk boundaries (M, S carried) == one call on every device, gradients included', () => {
    const c = { B: 2, T: 12, H: 2, dk: 3, dv: 4 };
    const d = data(c, 11);
    const st = [c.B, c.H, c.dv, c.dk];
    const shapes = [[c.B, c.T, c.H, c.dk], [c.B, c.T, c.H, c.dk], [c.B, c.T, c.H, c.dv], [c.B, c.T, c.H], [c.B, c.T, c.H], [c.B, c.T, c.H], st, st]; // prettier-ignore
    for (const device of ['cpu', 'sim', 'cuda'] as const)
      for (const readAfterWrite of [true, false]) {
        const go = (cuts: number[]) => {
          const ins = INPUTS.map((n, i) =>
            tensor(Array.from(d[n]), { shape: shapes[i]!, dtype: 'float64', device, requiresGrad: true }),
          );
          let states = ins.slice(6);
          const outs: Tensor[] = [];
          for (let i = 0; i + 1 < cuts.length; i++) {
            const piece = ins.slice(0, 6).map((t) => narrow(t, 1, cuts[i]!, cuts[i + 1]! - cuts[i]!));
            const [o, m, s] = fusedTitansLinear([...piece, ...states], { chunkSize: 4, readAfterWrite });
            outs.push(o);
            states = [m, s];
          }
          const o = cat(outs, 1);
          const lo = mul(o, tensor(Array.from(d.lo), { shape: o.shape, dtype: 'float64', device })).sum();
          lo.add(states[0]!.sum()).add(states[1]!.sum()).backward();
          return [o, ...states, ...ins.map((x) => x.grad!)].map((t) => Array.from(t.dataSync()));
        };
        const one = go([0, 12]);
        for (const cuts of [
          [0, 4, 12],
          [0, 8, 12],
          [0, 4, 8, 12],
        ]) {
          const p = go(cuts);
          one.forEach((x, i) =>
            assertClose(`${device}: value ${i}, cuts ${cuts.join('/')}`, x, p[i]!, tol('float64')),
          );
        }
      }
  });

  it('T = 0: o is empty, M and S pass through, so do their gradients', () => {
    const r = compare('float64', { B: 2, T: 0, H: 2, dk: 3, dv: 2 }, { chunkSize: 4, readAfterWrite: true });
    expect(r.values[0]!.length).toBe(0);
  });
});

describe('cudaTitansLinearForward / Backward refuse bad calls', () => {
  const dims = [1, 3, 2, 4, 5]; // B, T, H, Dk, Dv: q 24, v 30, gates 6, states 40
  const buf = (n: number) => tensor(new Array(n).fill(0.25), { dtype: 'float64', device: 'cuda' });
  const p = (t: Tensor) => cudaPointer(t.storage.buffer);
  const inputs = () => [24, 24, 30, 6, 6, 6, 40, 40].map((n) => p(buf(n))) as (number | null)[];
  const zeros = (n: number) => new Array<number>(n).fill(0);

  it('forward: good call runs; short buffers, bad pointers, missing operands, bad dims, chunk and dtype throw', () => {
    const ptrs = [...inputs(), ...[30, 40, 40].map((n) => p(buf(n)))];
    const f = native.cudaTitansLinearForward.bind(native);
    expect(() => f(1, dims, 2, true, ptrs, zeros(11))).not.toThrow();
    expect(() =>
      f(1, dims, 2, false, [...ptrs.slice(0, 6), null, null, ...ptrs.slice(8)], zeros(11)),
    ).not.toThrow();
    expect(() => f(1, [1, 4, 2, 4, 5], 2, true, ptrs, zeros(11))).toThrow(/reaches element/);
    expect(() => f(1, dims, 2, true, ptrs, [0, 0, 1, ...zeros(8)])).toThrow(/operand 2 reaches/);
    expect(() => f(1, dims, 2, true, [...ptrs.slice(0, 10), 12345], zeros(11))).toThrow(
      /not a live CUDA buffer/,
    );
    expect(() => f(1, dims, 2, true, [null, ...ptrs.slice(1)], zeros(11))).toThrow(/operand 0 is required/);
    expect(() => f(1, dims, 2, true, ptrs.slice(0, 10), zeros(10))).toThrow(/11 operands/);
    expect(() => f(1, [1, 3, 2, 4], 2, true, ptrs, zeros(11))).toThrow(/dims must be \[B, T, H, Dk, Dv\]/);
    expect(() => f(1, dims, 0, true, ptrs, zeros(11))).toThrow(/chunk must be positive/);
    expect(() => f(2 as 0, dims, 2, true, ptrs, zeros(11))).toThrow(/float32 or float64/);
  });

  it('backward: good call runs; chunk 0, short gradient buffers and missing outputs throw', () => {
    const ins = inputs();
    const ups = [30, 40, 40].map((n) => p(buf(n)));
    const outs = [24, 24, 30, 6, 6, 6, 40, 40].map((n) => p(buf(n)));
    const b = native.cudaTitansLinearBackward.bind(native);
    expect(() => b(1, dims, 2, true, [...ins, ...ups, ...outs], zeros(19))).not.toThrow();
    expect(() => b(1, dims, 2, true, [...ins, null, null, null, ...outs], zeros(19))).not.toThrow();
    expect(() => b(1, dims, 0, true, [...ins, ...ups, ...outs], zeros(19))).toThrow(/chunk/);
    expect(() => b(1, dims, 2, true, [...ins, ...ups, ...outs.slice(0, 7), p(buf(39))], zeros(19))).toThrow(/operand 18 reaches/); // prettier-ignore
    expect(() => b(1, dims, 2, true, [...ins, ...ups, ...outs.slice(0, 7), null], zeros(19))).toThrow(
      /required/,
    );
    expect(() => b(1, dims, 2, true, [...ins, ...ups], zeros(11))).toThrow(/19 operands/);
  });
});
