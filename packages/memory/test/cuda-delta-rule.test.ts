/**
 * memory.gatedDeltaRule on 'cuda' (the emulated device: token-recurrent kernels of
 * native/src/cuda/kernels/delta_rule*.h) against the 'cpu' chunked WY kernels: outputs, final
 * state and every gradient (q, k, v, α, β, S0), erase on / off, float32 / float64, odd T, T below
 * one chunk and over several, a chunk-size sweep, B, H > 1, Dk ≠ Dv, absent dO or dS_T, and the
 * memory modules that run on the op (LinearMemory, GatedDeltaMemory) end to end.
 */
import { native } from '@nl/native';
import { mul, tensor, type Tensor } from '@nl/tensor';
import { cudaPointer } from '@nl/tensor/internal';
import { assertClose, enableCudaEmulation } from '@nl/tensor/testing';
import { describe, expect, it } from 'vitest';
import { fusedGatedDelta } from '../src/modules/fused-delta.js';
import { GatedDeltaMemory, LinearMemory } from '../src/index.js';
import { randArr, rng } from './modules/helpers.js';

enableCudaEmulation();

type DT = 'float32' | 'float64';
interface Case {
  B: number;
  T: number;
  H: number;
  dk: number;
  dv: number;
}

function data(c: Case, seed: number) {
  const r = rng(seed);
  const n = c.B * c.T * c.H;
  const al = randArr(r, n, 0.5, 1);
  const be = randArr(r, n, 0, 1);
  if (n > 2) {
    al[1] = 0; // gates at their ends
    be[2] = 1;
  }
  const scale = 1 / Math.sqrt(c.dk);
  return {
    q: randArr(r, n * c.dk, -scale, scale),
    k: randArr(r, n * c.dk, -scale, scale),
    v: randArr(r, n * c.dv),
    al,
    be,
    s0: randArr(r, c.B * c.H * c.dk * c.dv, -0.5, 0.5),
    wo: randArr(r, n * c.dv),
    ws: randArr(r, c.B * c.H * c.dk * c.dv),
  };
}

/** Forward + backward on one device; gO / gS absent when `noO` / `noS`. */
function run(
  device: 'cpu' | 'cuda',
  dtype: DT,
  c: Case,
  d: ReturnType<typeof data>,
  o: { erase: boolean; chunkSize: number; noO?: boolean; noS?: boolean },
) {
  const mk = (a: Float64Array, shape: number[]) =>
    tensor(Array.from(a), { shape, dtype, device, requiresGrad: true });
  const ins = [
    mk(d.q, [c.B, c.T, c.H, c.dk]),
    mk(d.k, [c.B, c.T, c.H, c.dk]),
    mk(d.v, [c.B, c.T, c.H, c.dv]),
    mk(d.al, [c.B, c.T, c.H]),
    mk(d.be, [c.B, c.T, c.H]),
    mk(d.s0, [c.B, c.H, c.dk, c.dv]),
  ] as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
  const [out, sT] = fusedGatedDelta(...ins, { erase: o.erase, chunkSize: o.chunkSize });
  const lo = mul(out, tensor(Array.from(d.wo), { shape: out.shape, dtype, device })).sum();
  const ls = mul(sT, tensor(Array.from(d.ws), { shape: sT.shape, dtype, device })).sum();
  const loss = o.noO ? ls : o.noS ? lo : lo.add(ls);
  loss.backward();
  return {
    o: Array.from(out.dataSync()),
    s: Array.from(sT.dataSync()),
    grads: ins.map((x) => Array.from(x.grad!.dataSync())),
  };
}

const NAMES = ['dq', 'dk', 'dv', 'dAlpha', 'dBeta', 'dS0'];
const tol = (dtype: DT) => (dtype === 'float32' ? { rtol: 2e-4, atol: 2e-5 } : { rtol: 1e-9, atol: 1e-11 });

function compare(dtype: DT, c: Case, o: Parameters<typeof run>[4], seed = 7) {
  const d = data(c, seed);
  const cpu = run('cpu', dtype, c, d, o);
  const gpu = run('cuda', dtype, c, d, o);
  assertClose('o', cpu.o, gpu.o, tol(dtype));
  assertClose('S_T', cpu.s, gpu.s, tol(dtype));
  cpu.grads.forEach((g, i) => assertClose(NAMES[i]!, g, gpu.grads[i]!, tol(dtype)));
  return gpu;
}

const CASES: [string, Case, number][] = [
  ['odd T below one chunk', { B: 1, T: 5, H: 1, dk: 3, dv: 4 }, 64],
  ['T over several chunks, B, H > 1, Dk < Dv', { B: 2, T: 11, H: 3, dk: 4, dv: 6 }, 4],
  ['Dk > Dv, T a multiple of the chunk', { B: 2, T: 8, H: 2, dk: 7, dv: 3 }, 4],
  ['wider than one block of threads', { B: 1, T: 6, H: 1, dk: 40, dv: 70 }, 4],
  ['one token', { B: 2, T: 1, H: 2, dk: 3, dv: 2 }, 64],
  ['more columns and rows than threads (256)', { B: 1, T: 3, H: 1, dk: 260, dv: 300 }, 2],
];

describe('memory.gatedDeltaRule on cuda == cpu', () => {
  for (const dtype of ['float64', 'float32'] as const)
    for (const erase of [true, false])
      for (const [name, c, chunkSize] of CASES)
        it(`${dtype}, erase ${erase}: ${name}`, () => compare(dtype, c, { erase, chunkSize }));

  it('the result does not depend on the chunk size', () => {
    const c = { B: 2, T: 13, H: 2, dk: 3, dv: 5 };
    for (const erase of [true, false]) {
      const ref = compare('float64', c, { erase, chunkSize: 64 });
      for (const chunkSize of [1, 2, 3, 5, 13, 100]) {
        const r = compare('float64', c, { erase, chunkSize });
        assertClose('o', ref.o, r.o);
        ref.grads.forEach((g, i) => assertClose(NAMES[i]!, g, r.grads[i]!));
      }
    }
  });

  it('absent dO or absent dS_T (zeros)', () => {
    const c = { B: 2, T: 9, H: 2, dk: 4, dv: 3 };
    for (const dtype of ['float64', 'float32'] as const)
      for (const erase of [true, false]) {
        compare(dtype, c, { erase, chunkSize: 4, noO: true });
        compare(dtype, c, { erase, chunkSize: 4, noS: true });
      }
  });

  it('non-contiguous inputs (views of [B, H, T, D] layouts)', () => {
    const B = 2, T = 6, H = 3, dk = 4, dv = 5; // prettier-ignore
    for (const dtype of ['float64', 'float32'] as const) {
      const go = (device: 'cpu' | 'cuda') => {
        const mk = (seed: number, shape: number[], lo = -1, hi = 1) => {
          const a = randArr(
            rng(seed),
            shape.reduce((x, y) => x * y, 1),
            lo,
            hi,
          );
          return tensor(Array.from(a), { shape, dtype, device, requiresGrad: true });
        };
        const leaves = [
          mk(1, [B, H, T, dk], -0.5, 0.5),
          mk(2, [B, H, T, dk], -0.5, 0.5),
          mk(3, [B, H, T, dv]),
          mk(4, [B, H, T], 0.5, 1),
          mk(5, [B, H, T], 0, 1),
          mk(6, [B, H, dv, dk], -0.5, 0.5),
        ];
        const [q, k, v, al, be, m] = leaves as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
        const ins = [q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), al.transpose(1, 2), be.transpose(1, 2), m.transpose(2, 3)] as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]; // prettier-ignore
        expect(ins[0].isContiguous).toBe(false);
        const [o, s] = fusedGatedDelta(...ins, { erase: true, chunkSize: 4 });
        o.mul(o).sum().add(s.sum()).backward();
        return [o, s, ...leaves.map((x) => x.grad!)].map((x) => Array.from(x.dataSync()));
      };
      const a = go('cpu');
      const b = go('cuda');
      a.forEach((x, i) => assertClose(`operand ${i}`, x, b[i]!, tol(dtype)));
    }
  });

  it('T = 0: o is empty, S_T = S0, dS0 = dS_T', () => {
    const c = { B: 2, T: 0, H: 2, dk: 3, dv: 2 };
    for (const erase of [true, false]) {
      const r = compare('float64', c, { erase, chunkSize: 4 });
      expect(r.o.length).toBe(0);
    }
  });
});

describe('memory modules on the fused op: cuda == cpu', () => {
  const B = 2,
    T = 9,
    H = 2,
    DK = 4,
    DV = 3;
  for (const Ctor of [LinearMemory, GatedDeltaMemory])
    it(`${Ctor.name}: outputs, state and gradients (float32)`, () => {
      const r = rng(5);
      const d = {
        m0: randArr(r, H * DV * DK, -0.5, 0.5),
        q: randArr(r, B * T * H * DK, -0.5, 0.5),
        k: randArr(r, B * T * H * DK, -0.5, 0.5),
        v: randArr(r, B * T * H * DV),
        al: randArr(r, B * T * H, 0.5, 1),
        be: randArr(r, B * T * H, 0, 1),
      };
      const go = (device: 'cpu' | 'cuda') => {
        const mem = new Ctor({ heads: H, dk: DK, dv: DV, dtype: 'float32', impl: 'fused', chunkSize: 4 });
        const t = (a: Float64Array, shape: number[], requiresGrad = true) =>
          tensor(Array.from(a), { shape, dtype: 'float32', device, requiresGrad });
        mem.to(device);
        mem.replaceParameter('m0', t(d.m0, [H, DV, DK]));
        const ins = [
          t(d.q, [B, T, H, DK]),
          t(d.k, [B, T, H, DK]),
          t(d.v, [B, T, H, DV]),
          t(d.al, [B, T, H]),
          t(d.be, [B, T, H]),
        ];
        const [q, k, v, alpha, beta] = ins as [Tensor, Tensor, Tensor, Tensor, Tensor];
        const o1 = mem.forward(q, k, v, { alpha, beta });
        const o2 = mem.forward(q, k, v, { alpha, beta });
        o1.mul(o1).sum().add(o2.sum()).backward();
        return {
          o: [...o1.dataSync(), ...o2.dataSync()],
          m: [...mem.state!.m!.dataSync()],
          grads: [mem.m0, ...ins].map((x) => [...x.grad!.dataSync()]),
        };
      };
      const a = go('cpu');
      const b = go('cuda');
      const tl = { rtol: 2e-4, atol: 2e-5 };
      assertClose('o', a.o, b.o, tl);
      assertClose('state', a.m, b.m, tl);
      a.grads.forEach((g, i) => assertClose(`grad ${i}`, g, b.grads[i]!, tl));
    });
});

describe('cudaDeltaRuleForward / Backward refuse bad calls', () => {
  const dims = [1, 3, 2, 4, 5];
  const buf = (n: number) => tensor(new Array(n).fill(0.5), { dtype: 'float64', device: 'cuda' });
  const p = (t: Tensor) => cudaPointer(t.storage.buffer);
  const fwd = () => {
    const [q, k] = [buf(24), buf(24)];
    const v = buf(30);
    const [al, be] = [buf(6), buf(6)];
    const s0 = buf(40);
    const [o, s] = [buf(30), buf(40)];
    return [q, k, v, al, be, s0, o, s].map(p) as (number | null)[];
  };
  const zeros = (n: number) => new Array<number>(n).fill(0);

  it('forward: good call runs; short buffers, bad pointers, missing operands, bad dims and dtypes throw', () => {
    const ptrs = fwd();
    expect(() => native.cudaDeltaRuleForward(1, dims, true, ptrs, zeros(8))).not.toThrow();
    expect(() => native.cudaDeltaRuleForward(1, [1, 4, 2, 4, 5], true, ptrs, zeros(8))).toThrow(
      /reaches element/,
    );
    expect(() => native.cudaDeltaRuleForward(1, dims, true, ptrs, [1, 0, 0, 0, 0, 0, 0, 0])).toThrow(
      /reaches/,
    );
    expect(() => native.cudaDeltaRuleForward(1, dims, true, [...ptrs.slice(0, 7), 12345], zeros(8))).toThrow(
      /not a live CUDA buffer/,
    );
    expect(() => native.cudaDeltaRuleForward(1, dims, true, [null, ...ptrs.slice(1)], zeros(8))).toThrow(
      /required/,
    );
    expect(() => native.cudaDeltaRuleForward(1, dims, true, ptrs.slice(0, 7), zeros(7))).toThrow(
      /8 operands/,
    );
    expect(() => native.cudaDeltaRuleForward(1, [1, 3, 2, 4], true, ptrs, zeros(8))).toThrow(/dims/);
    expect(() => native.cudaDeltaRuleForward(2 as 0, dims, true, ptrs, zeros(8))).toThrow(
      /float32 or float64/,
    );
    // float32 reads 4-byte elements: the same float64 buffers are long enough, a longer T is not
    expect(() => native.cudaDeltaRuleForward(0, [1, 7, 2, 4, 5], true, ptrs, zeros(8))).toThrow(/reaches/);
  });

  it('backward: chunk 0, short gradient buffers and missing outputs throw', () => {
    const f = fwd();
    const ins = [...f.slice(0, 6), f[6]!, f[7]!];
    const outs = [buf(24), buf(24), buf(30), buf(6), buf(6), buf(40)].map(p);
    expect(() => native.cudaDeltaRuleBackward(1, dims, true, 2, [...ins, ...outs], zeros(14))).not.toThrow();
    expect(() => native.cudaDeltaRuleBackward(1, dims, true, 0, [...ins, ...outs], zeros(14))).toThrow(
      /chunk/,
    );
    const short = [...outs.slice(0, 5), p(buf(39))];
    expect(() => native.cudaDeltaRuleBackward(1, dims, true, 2, [...ins, ...short], zeros(14))).toThrow(
      /reaches/,
    );
    expect(() => native.cudaDeltaRuleBackward(1, dims, true, 2, [...ins, ...outs.slice(0, 5), null], zeros(14))).toThrow(/required/); // prettier-ignore
  });
});
