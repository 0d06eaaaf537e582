/**
 * memory.titansMlp on 'cuda' (the emulated device: kernels of native/src/cuda/kernels/titans_mlp*.h)
 * against the 'cpu' chunk-form kernels and the float64 token-level TS reference (ref.ts,
 * ref-backward.ts): outputs, final W1, W2, S1, S2 and every gradient (q, k, v, θ, η, α, W1, W2, S1,
 * S2), both read orders, float32 / float64, odd T, T below one chunk and over several, a chunk-size
 * sweep, B, H > 1, absent upstream gradients, T = 0, pieces cut at chunk boundaries == one call,
 * TitansMemory (impl 'fused') over calls that start mid-chunk, with and without innerGradClip; bad
 * calls to the entry points.
 */
import { native } from '@nl/native';
import { cat, mul, narrow, tensor, type Tensor } from '@nl/tensor';
import { cudaPointer } from '@nl/tensor/internal';
import { assertClose, enableCudaEmulation } from '@nl/tensor/testing';
import { describe, expect, it } from 'vitest';
import { fusedTitansMlp } from '../src/modules/fused-titans.js';
import { titansMlpBackwardReference, titansMlpReference } from '../src/kernels/index.js';
import { TitansMemory } from '../src/index.js';
import { randArr, rng } from './modules/helpers.js';

enableCudaEmulation();

type DT = 'float32' | 'float64';
interface Case {
  B: number;
  T: number;
  H: number;
  D: number;
  Dh: number;
}
interface Opts {
  chunkSize: number;
  readAfterWrite: boolean;
  /** Upstream gradients left out (null): 'o' or the final states. */
  drop?: 'o' | 'states';
}

function data(c: Case, seed: number) {
  const r = rng(seed);
  const n = c.B * c.T * c.H;
  const w = c.B * c.H * c.D * c.Dh;
  const d = {
    q: randArr(r, n * c.D),
    k: randArr(r, n * c.D, -0.6, 0.6),
    v: randArr(r, n * c.D),
    theta: randArr(r, n, 0, 0.3),
    eta: randArr(r, n, 0.5, 0.9),
    alpha: randArr(r, n, 0, 0.1),
    w1: randArr(r, w, -0.5, 0.5),
    w2: randArr(r, w, -0.5, 0.5),
    s1: randArr(r, w, -0.1, 0.1),
    s2: randArr(r, w, -0.1, 0.1),
    // loss weights of o and of the final W1, W2, S1, S2
    lo: randArr(r, n * c.D),
    lw: [0, 1, 2, 3].map(() => randArr(r, w)),
  };
  if (n > 3) {
    d.alpha[1] = 1; // gates at their ends
    d.eta[2] = 0;
    d.theta[3] = 0;
  }
  return d;
}
type Data = ReturnType<typeof data>;

const INPUTS = ['q', 'k', 'v', 'theta', 'eta', 'alpha', 'w1', 'w2', 's1', 's2'] as const;
const GRADS = ['dq', 'dk', 'dv', 'dTheta', 'dEta', 'dAlpha', 'dW1', 'dW2', 'dS1', 'dS2'] as const;
const STATES = ['w1', 'w2', 's1', 's2'] as const;

function shapes(c: Case): number[][] {
  const row = [c.B, c.T, c.H, c.D],
    gate = [c.B, c.T, c.H];
  const wa = [c.B, c.H, c.D, c.Dh],
    wb = [c.B, c.H, c.Dh, c.D];
  return [row, row, row, gate, gate, gate, wa, wb, wa, wb];
}

/** Forward + backward of the op on one device. */
function run(device: 'cpu' | 'cuda', dtype: DT, c: Case, d: Data, o: Opts) {
  const sh = shapes(c);
  const ins = INPUTS.map((name, i) =>
    tensor(Array.from(d[name]), { shape: sh[i]!, dtype, device, requiresGrad: true }),
  );
  const outs = fusedTitansMlp(ins, {
    chunkSize: o.chunkSize,
    readAfterWrite: o.readAfterWrite,
    hidden: c.Dh,
  });
  const weight = (a: Float64Array, t: Tensor) =>
    mul(t, tensor(Array.from(a), { shape: t.shape, dtype, device })).sum();
  const lo = weight(d.lo, outs[0]!);
  const ls = outs.slice(1).map((t, i) => weight(d.lw[i]!, t));
  const loss =
    o.drop === 'o'
      ? ls.reduce((a, b) => a.add(b))
      : o.drop === 'states'
        ? lo
        : ls.reduce((a, b) => a.add(b), lo);
  loss.backward();
  return {
    o: Array.from(outs[0]!.dataSync()),
    states: outs.slice(1).map((t) => Array.from(t.dataSync())),
    grads: ins.map((x) => Array.from(x.grad!.dataSync())),
  };
}

/** The float64 token-level reference of the same call. */
function reference(c: Case, d: Data, o: Opts) {
  const x = {
    ...Object.fromEntries(INPUTS.map((n) => [n, d[n]])),
    shape: { batch: c.B, seqLen: c.T, heads: c.H, dk: c.D, dv: c.D },
    hidden: c.Dh,
  } as Parameters<typeof titansMlpReference>[0];
  const opts = { chunkSize: o.chunkSize, readAfterWrite: o.readAfterWrite };
  const f = titansMlpReference(x, opts);
  const zero = (a: Float64Array) => new Float64Array(a.length);
  const dO = o.drop === 'o' ? zero(d.lo) : d.lo;
  const ws = d.lw.map((a) => (o.drop === 'states' ? zero(a) : a));
  const g = titansMlpBackwardReference(x, { dO, dW1: ws[0], dW2: ws[1], dS1: ws[2], dS2: ws[3] }, opts);
  return { o: f.o, states: STATES.map((n) => f[n]), grads: GRADS.map((n) => g[n]) };
}

const tol = (dtype: DT) => (dtype === 'float32' ? { rtol: 5e-4, atol: 5e-5 } : { rtol: 1e-9, atol: 1e-11 });
/** tol, with float32's atol scaled by the array's largest magnitude (wide cases sum hundreds of terms). */
function tolFor(dtype: DT, want: ArrayLike<number>) {
  const t = tol(dtype);
  if (dtype === 'float64') return t;
  let m = 1;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(want[i]!));
  return { ...t, atol: t.atol * m };
}

function compare(dtype: DT, c: Case, o: Opts, seed = 7) {
  const d = data(c, seed);
  const gpu = run('cuda', dtype, c, d, o);
  const cpu = run('cpu', dtype, c, d, o);
  const ref = reference(c, d, o);
  for (const [name, want] of [
    ['cpu', cpu],
    ['reference', ref],
  ] as const) {
    assertClose(`o vs ${name}`, want.o, gpu.o, tolFor(dtype, want.o));
    STATES.forEach((s, i) => assertClose(`${s} vs ${name}`, want.states[i]!, gpu.states[i]!, tolFor(dtype, want.states[i]!))); // prettier-ignore
    GRADS.forEach((g, i) => assertClose(`${g} vs ${name}`, want.grads[i]!, gpu.grads[i]!, tolFor(dtype, want.grads[i]!))); // prettier-ignore
  }
  return gpu;
}

const CASES: [string, Case, number][] = [
  ['odd T below one chunk', { B: 1, T: 5, H: 1, D: 3, Dh: 4 }, 16],
  ['T over several chunks, B, H > 1', { B: 2, T: 11, H: 2, D: 4, Dh: 6 }, 4],
  ['T a multiple of the chunk, D > Dh', { B: 1, T: 8, H: 2, D: 5, Dh: 3 }, 4],
  ['chunk 1, one token a chunk', { B: 1, T: 7, H: 1, D: 3, Dh: 5 }, 1],
  ['wider than one block of threads (Dh 70)', { B: 1, T: 5, H: 1, D: 6, Dh: 70 }, 2],
  ['one token', { B: 2, T: 1, H: 2, D: 3, Dh: 2 }, 64],
  ['more hidden units than threads (256)', { B: 1, T: 3, H: 1, D: 3, Dh: 300 }, 2],
  ['more rows than threads (256)', { B: 1, T: 3, H: 1, D: 270, Dh: 4 }, 2],
];

describe('memory.titansMlp on cuda == cpu == float64 reference', () => {
  for (const dtype of ['float64', 'float32'] as const)
    for (const readAfterWrite of [true, false])
      for (const [name, c, chunkSize] of CASES)
        it(`${dtype}, readAfterWrite ${readAfterWrite}: ${name}`, () =>
          compare(dtype, c, { chunkSize, readAfterWrite }));

  it('chunk-size sweep (the chunk changes the maths: each size against its own reference)', () => {
    const c = { B: 1, T: 13, H: 2, D: 3, Dh: 4 };
    const outs: number[][] = [];
    for (const chunkSize of [1, 2, 3, 5, 13, 100])
      outs.push(compare('float64', c, { chunkSize, readAfterWrite: true }).o);
    // chunk >= T is one chunk of T
    assertClose('chunk 13 == chunk 100', outs[4]!, outs[5]!, { rtol: 1e-12, atol: 1e-14 });
    expect(Math.max(...outs[0]!.map((x, i) => Math.abs(x - outs[4]![i]!)))).toBeGreaterThan(1e-6);
  });

  it('absent dO or absent final-state gradients (zeros)', () => {
    const c = { B: 2, T: 9, H: 1, D: 4, Dh: 3 };
    for (const dtype of ['float64', 'float32'] as const)
      for (const readAfterWrite of [true, false]) {
        compare(dtype, c, { chunkSize: 4, readAfterWrite, drop: 'o' });
        compare(dtype, c, { chunkSize: 4, readAfterWrite, drop: 'states' });
      }
  });

  it('pieces cut at chunk boundaries (W1, W2, S1, S2 carried) == one call, gradients included', () => {
    const c = { B: 2, T: 12, H: 2, D: 3, Dh: 4 };
    const d = data(c, 11);
    for (const readAfterWrite of [true, false]) {
      const go = (cuts: number[]) => {
        const sh = shapes(c);
        const ins = INPUTS.map((n, i) =>
          tensor(Array.from(d[n]), { shape: sh[i]!, dtype: 'float64', device: 'cuda', requiresGrad: true }),
        );
        let states = ins.slice(6);
        const outs: Tensor[] = [];
        for (let i = 0; i + 1 < cuts.length; i++) {
          // [B, L, H, ...] views of the token inputs (not contiguous for B > 1)
          const piece = ins.slice(0, 6).map((t) => narrow(t, 1, cuts[i]!, cuts[i + 1]! - cuts[i]!));
          const r = fusedTitansMlp([...piece, ...states], { chunkSize: 4, readAfterWrite, hidden: c.Dh });
          outs.push(r[0]!);
          states = r.slice(1);
        }
        const o = cat(outs, 1);
        const lo = mul(
          o,
          tensor(Array.from(d.lo), { shape: o.shape, dtype: 'float64', device: 'cuda' }),
        ).sum();
        lo.add(states[0]!.sum()).add(states[3]!.sum()).backward();
        return [o, ...states, ...ins.map((x) => x.grad!)].map((t) => Array.from(t.dataSync()));
      };
      const one = go([0, 12]);
      for (const cuts of [
        [0, 4, 12],
        [0, 8, 12],
        [0, 4, 8, 12],
      ]) {
        const p = go(cuts);
        one.forEach((x, i) => assertClose(`value ${i}, cuts ${cuts.join('/')}`, x, p[i]!, tol('float64')));
      }
    }
  });

  it('T = 0: o is empty, the states pass through, so do their gradients', () => {
    const r = compare('float64', { B: 2, T: 0, H: 2, D: 3, Dh: 2 }, { chunkSize: 4, readAfterWrite: true });
    expect(r.o.length).toBe(0);
  });
});

describe('TitansMemory impl fused on cuda == cpu (calls that start mid-chunk)', () => {
  for (const [chunkSize, readAfterWrite, innerGradClip] of [
    [3, true, 0],
    [4, false, 0],
    [3, true, 0.05], // the clip: one kernel call per chunk, s by tensor ops on the device
  ] as const)
    it(`chunk ${chunkSize}, readAfterWrite ${readAfterWrite}${innerGradClip ? `, innerGradClip ${innerGradClip}` : ''}, float32`, () => {
      const B = 2, H = 2, D = 3, DH = 4, LENS = [5, 8, 2]; // prettier-ignore
      const r = rng(41 + chunkSize);
      const w1 = randArr(r, H * D * DH, -0.5, 0.5),
        w2 = randArr(r, H * DH * D, -0.5, 0.5);
      const calls = LENS.map((L) => ({
        L,
        q: randArr(r, B * L * H * D),
        k: randArr(r, B * L * H * D),
        v: randArr(r, B * L * H * D),
        th: randArr(r, B * L * H, 0.05, 0.5),
        et: randArr(r, B * L * H, 0, 0.9),
        al: randArr(r, B * L * H, 0, 0.2),
      }));
      const go = (device: 'cpu' | 'cuda') => {
        const t = (a: Float64Array, shape: number[]) =>
          tensor(Array.from(a), { shape, dtype: 'float32', device, requiresGrad: true });
        const mem = new TitansMemory({ heads: H, dk: D, dv: D, hidden: DH, chunkSize, readAfterWrite, impl: 'fused', innerGradClip, dtype: 'float32' }); // prettier-ignore
        mem.to(device);
        mem.replaceParameter('w1', t(w1, [H, D, DH]));
        mem.replaceParameter('w2', t(w2, [H, DH, D]));
        const leaves: Tensor[] = [];
        const outs: number[] = [];
        let loss: Tensor | null = null;
        for (const c of calls) {
          const ins = [c.q, c.k, c.v].map((a) => t(a, [B, c.L, H, D]));
          const gs = [c.th, c.et, c.al].map((a) => t(a, [B, c.L, H]));
          leaves.push(...ins, ...gs);
          const [q, k, v] = ins as [Tensor, Tensor, Tensor];
          const [theta, eta, alpha] = gs as [Tensor, Tensor, Tensor];
          const o = mem.forward(q, k, v, { theta, eta, alpha });
          outs.push(...o.dataSync());
          const term = o.mul(o).sum();
          loss = loss === null ? term : loss.add(term);
        }
        loss!.add(mem.state!.w1!.sum()).backward();
        return { outs, grads: [mem.w1, mem.w2, ...leaves].map((x) => Array.from(x.grad!.dataSync())) };
      };
      const a = go('cpu');
      const b = go('cuda');
      const tl = { rtol: 5e-4, atol: 5e-5 };
      assertClose('o', a.outs, b.outs, tl);
      a.grads.forEach((g, i) => assertClose(`grad ${i}`, g, b.grads[i]!, tl));
    });
});

describe('cudaTitansMlpForward / Backward refuse bad calls', () => {
  const dims = [1, 3, 2, 4, 5]; // B, T, H, D, Dh: rows 24, gates 6, weights 40
  const buf = (n: number) => tensor(new Array(n).fill(0.25), { dtype: 'float64', device: 'cuda' });
  const p = (t: Tensor) => cudaPointer(t.storage.buffer);
  const inputs = () => [24, 24, 24, 6, 6, 6, 40, 40, 40, 40].map((n) => p(buf(n))) as (number | null)[];
  const zeros = (n: number) => new Array<number>(n).fill(0);

  it('forward: good call runs; short buffers, bad pointers, missing operands, bad dims, chunk and dtype throw', () => {
    const ptrs = [...inputs(), ...[24, 40, 40, 40, 40].map((n) => p(buf(n)))];
    const f = native.cudaTitansMlpForward.bind(native);
    expect(() => f(1, dims, 2, true, ptrs, zeros(15))).not.toThrow();
    expect(() =>
      f(1, dims, 2, true, [...ptrs.slice(0, 8), null, null, ...ptrs.slice(10)], zeros(15)),
    ).not.toThrow();
    expect(() => f(1, [1, 4, 2, 4, 5], 2, true, ptrs, zeros(15))).toThrow(/reaches element/);
    expect(() => f(1, dims, 2, true, ptrs, [0, 0, 0, 0, 0, 0, 1, ...zeros(8)])).toThrow(/operand 6.*reaches/);
    expect(() => f(1, dims, 2, true, [...ptrs.slice(0, 14), 12345], zeros(15))).toThrow(
      /not a live CUDA buffer/,
    );
    expect(() => f(1, dims, 2, true, [null, ...ptrs.slice(1)], zeros(15))).toThrow(/operand 0 is required/);
    expect(() => f(1, dims, 2, true, [...ptrs.slice(0, 10), null, ...ptrs.slice(11)], zeros(15))).toThrow(
      /required/,
    );
    expect(() => f(1, dims, 2, true, ptrs.slice(0, 14), zeros(14))).toThrow(/15 operands/);
    expect(() => f(1, [1, 3, 2, 4], 2, true, ptrs, zeros(15))).toThrow(/dims must be \[B, T, H, D, Dh\]/);
    expect(() => f(1, dims, 0, true, ptrs, zeros(15))).toThrow(/chunk must be positive/);
    expect(() => f(2 as 0, dims, 2, true, ptrs, zeros(15))).toThrow(/float32 or float64/);
  });

  it('backward: good call runs; chunk 0, short gradient buffers and missing outputs throw', () => {
    const ins = inputs();
    const ups = [24, 40, 40, 40, 40].map((n) => p(buf(n)));
    const outs = [24, 24, 24, 6, 6, 6, 40, 40, 40, 40].map((n) => p(buf(n)));
    const b = native.cudaTitansMlpBackward.bind(native);
    expect(() => b(1, dims, 2, false, [...ins, ...ups, ...outs], zeros(25))).not.toThrow();
    expect(() =>
      b(1, dims, 2, false, [...ins, null, null, null, null, null, ...outs], zeros(25)),
    ).not.toThrow();
    expect(() => b(1, dims, 0, false, [...ins, ...ups, ...outs], zeros(25))).toThrow(/chunk/);
    const short = [...outs.slice(0, 9), p(buf(39))];
    expect(() => b(1, dims, 2, false, [...ins, ...ups, ...short], zeros(25))).toThrow(/operand 24 reaches/);
    expect(() => b(1, dims, 2, false, [...ins, ...ups, ...outs.slice(0, 9), null], zeros(25))).toThrow(
      /required/,
    );
    expect(() => b(1, dims, 2, false, [...ins, ...ups], zeros(15))).toThrow(/25 operands/);
  });
});
