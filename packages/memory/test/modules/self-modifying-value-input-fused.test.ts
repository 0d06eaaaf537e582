/**
 * SelfModifyingTitans impl 'fused' with a separate value input (`forward(x, q, { xv })`, the native
 * CPU kernel's optional xv) against impl 'chunked' and impl 'loop' with the same xv (themselves
 * checked against independent references in self-modifying-value-input.test.ts), float64: outputs,
 * the six carried states of every memory, and every gradient (x, q, xv, every memory's init w1 / w2)
 * within 1e-9. Odd T, T below one chunk, calls cut into pieces, adaptiveQ on / off, readSnapshot,
 * momentum 0. xv = x gives the forward without xv exactly; a wrong xv is named; on 'cuda' (emulated)
 * the fused impl refuses xv by name. (Token form and the kernel's dxv gradcheck:
 * test/kernels/self-mod-native-xv.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { tensor } from '@nl/tensor';
import { enableCudaEmulation } from '@nl/tensor/testing';
import { SelfModifyingTitans } from '../../src/index.js';
import { maxDiff, randArr, rng, t64 } from './helpers.js';
import { buildSmall as build, D, H, runCut as run, type SmallCfg as Cfg } from './self-mod-kit.js';

interface Case {
  cfg: Cfg;
  B: number;
  T: number;
  cuts: number[];
}

const cases: [string, Case][] = [
  ['odd T 11, one call', { cfg: { chunkMem: 4, chunkOther: 3, momentum: 0.9 }, B: 2, T: 11, cuts: [] }],
  ['T 3 below both chunks (8, 4)', { cfg: { chunkMem: 8, chunkOther: 4 }, B: 1, T: 3, cuts: [] }],
  ['calls cut at 2 and 7 (T 13)', { cfg: { chunkMem: 4, chunkOther: 3, momentum: 0.9 }, B: 2, T: 13, cuts: [2, 7] }],
  ['adaptiveQ + readSnapshot, cut at 5 (T 9)', { cfg: { chunkMem: 3, chunkOther: 2, adaptiveQ: true, readSnapshot: true }, B: 1, T: 9, cuts: [5] }],
  ['momentum 0, chunk 1 for mem, cut at 3 (T 7)', { cfg: { chunkMem: 1, chunkOther: 2, momentum: 0 }, B: 2, T: 7, cuts: [3] }],
]; // prettier-ignore

const TOL = 1e-9;

describe("SelfModifyingTitans impl 'fused' with a value input (xv) == 'chunked' == 'loop' (float64)", () => {
  for (const [name, c] of cases)
    it(name, () => {
      const ms = build(31, c.cfg, ['fused', 'chunked', 'loop']);
      const r = rng(32);
      const data = [0, 1, 2, 3].map(() => randArr(r, c.B * c.T * H * D));
      // fused in the given pieces; the references in one call (their own cut tests are elsewhere)
      const [F, ...refs] = ms.map((m, i) => run(m, data, c.B, c.T, i === 0 ? c.cuts : []));
      for (const R of refs) {
        const tag = R.m.impl;
        expect(maxDiff(F!.o, R.o), `${tag}: outputs`).toBeLessThan(TOL);
        expect(F!.m.tokens).toBe(R.m.tokens);
        const sf = F!.m.snapshot().state!;
        const sr = R.m.snapshot().state!;
        for (const n of R.m.names) {
          for (const k of ['w1', 'w2', 's1', 's2', 'a1', 'a2'] as const)
            expect(maxDiff(sf[n]![k].dataSync(), sr[n]![k].dataSync()), `${tag}: state ${n}.${k}`).toBeLessThan(TOL);
          for (const k of ['w1', 'w2'] as const) {
            const gr = R.m.memories[n]![k].grad!.dataSync();
            expect(maxDiff(F!.m.memories[n]![k].grad!.dataSync(), gr), `${tag}: grad ${n}.${k}`).toBeLessThan(TOL);
          }
        }
        for (const g of ['gx', 'gv'] as const) {
          expect(maxDiff(F![g]!.dataSync(), R[g]!.dataSync()), `${tag}: ${g}`).toBeLessThan(TOL);
          expect(maxDiff(R[g]!.dataSync(), new Float64Array(R[g]!.numel)), `${tag}: ${g} non-zero`).toBeGreaterThan(1e-6);
        }
        if (c.cfg.adaptiveQ) expect([F!.gq, R.gq]).toEqual([null, null]);
        else expect(maxDiff(F!.gq!.dataSync(), R.gq!.dataSync()), `${tag}: gq`).toBeLessThan(TOL);
      }
    }); // prettier-ignore

  it('xv = x: the same outputs as without xv, exactly, and the same gradient of x', () => {
    const cfg = { chunkMem: 4, chunkOther: 3 };
    const [a, b] = build(5, cfg, ['fused', 'fused']) as [SelfModifyingTitans, SelfModifyingTitans];
    const r = rng(6);
    const x = randArr(r, 2 * 9 * H * D);
    const q = randArr(r, 2 * 9 * H * D);
    const [xa, xb] = [t64(x, [2, 9, H, D], true), t64(x, [2, 9, H, D], true)];
    const oa = a.forward(xa, t64(q, [2, 9, H, D]));
    const ob = b.forward(xb, t64(q, [2, 9, H, D]), { xv: xb });
    expect(maxDiff(ob.dataSync(), oa.dataSync())).toBe(0);
    oa.square().sum().backward();
    ob.square().sum().backward();
    expect(maxDiff(xb.grad!.dataSync(), xa.grad!.dataSync())).toBeLessThan(1e-12);
    for (const n of a.names)
      expect(maxDiff(b.memories[n]!.w2.grad!.dataSync(), a.memories[n]!.w2.grad!.dataSync())).toBeLessThan(
        1e-12,
      );
  });

  it("refuses an xv whose shape differs from x's; on 'cuda' the fused impl refuses xv by name", () => {
    const [m] = build(1, {}, ['fused']);
    const x = t64(new Float64Array(3 * H * D), [1, 3, H, D]);
    expect(() => m!.forward(x, x, { xv: t64(new Float64Array(2 * H * D), [1, 2, H, D]) })).toThrow(
      /xv \[B, T\] = \[1, 2\] differs from x's \[1, 3\]/,
    );
    expect(() =>
      m!.forward(x, x, { xv: t64(new Float64Array(3 * 2 * D), [1, 3, 2, D]).narrow(2, 0, 1) }),
    ).toThrow(/xv/);
    enableCudaEmulation();
    const mc = new SelfModifyingTitans({ heads: 1, dim: 2, impl: 'fused', dtype: 'float64' });
    mc.to('cuda');
    const z = tensor(new Array(6).fill(0.5), { shape: [1, 3, 1, 2], dtype: 'float64', device: 'cuda' });
    expect(() => mc.forward(z, z, { xv: z })).toThrow(
      /value input \(xv\) is supported by the CPU kernel only; the CUDA kernels have none.*device 'cuda'/,
    );
  });
});
