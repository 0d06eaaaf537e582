/**
 * ContinuumMemory `impl: 'fused'` (native `memory.cms` / `memory.cmsObserve`) against the tensor-op
 * reference (`impl: 'loop'`) on every device the op runs on: outputs, Δ / G / counters across calls
 * (boundaries inside and across calls; chunk sizes 1, odd, > T; unsorted levels for 'nested'),
 * flush, every outer gradient (x, θ0, aggregation weights) and the error signals, in float64 and
 * float32; gradients also against central finite differences; bad input.
 */
import { describe, expect, it } from 'vitest';
import { manualSeed, mul, randn, sum, type Device, type Tensor } from '@nl/tensor';
import { enableSimDevice, resetSimTransfers, simTransfers, testDevices } from '@nl/tensor/testing';
import { ContinuumMemory, type CmsConfig } from '../../src/index.js';
import { maxDiff, randArr, rng, t64 } from './helpers.js';

const D = 3,
  DH = 5;
type Variant = NonNullable<CmsConfig['variant']>;
const VARIANTS: Variant[] = ['sequential', 'independent', 'nested'];
const DEVICES = testDevices(); // cpu, sim and 'cuda' (a GPU, or the emulated device)

/** A reference module and a fused one with the same parameters, on `device`. */
function pair(
  chunks: number[],
  variant: Variant,
  device: Device,
  dtype: 'float32' | 'float64' = 'float64',
): [ContinuumMemory, ContinuumMemory] {
  const cfg = (impl: 'loop' | 'fused'): CmsConfig => ({
    dim: D,
    hidden: DH,
    levels: chunks.map((c, i) => ({ chunkSize: c, lr: 0.05 * (i + 1) })),
    variant,
    dtype,
    initStd: 0.5,
    impl,
  });
  const ref = new ContinuumMemory(cfg('loop'));
  const fused = new ContinuumMemory(cfg('fused'));
  for (const [name, p] of ref.namedParameters()) {
    // distinct aggregation weights, so a mix-up between levels shows
    const v =
      name === 'agg'
        ? mul(
            p.detach(),
            t64(
              Float64Array.from(chunks, (_, i) => 1 + i),
              [chunks.length],
            ).to(dtype),
          )
        : p.detach();
    ref.replaceParameter(name, v.clone());
    fused.replaceParameter(name, v.clone());
  }
  ref.to(device);
  fused.to(device);
  return [ref, fused];
}

const host = (t: Tensor): Float64Array => Float64Array.from(t.dataSync());
const on = (a: Float64Array, shape: number[], device: Device, dtype: 'float32' | 'float64') =>
  t64(a, shape).to(dtype).to(device);

/** Max difference of every Δ and G between two modules. */
function stateDiff(a: ContinuumMemory, b: ContinuumMemory): number {
  const sa = a.snapshot().levels;
  const sb = b.snapshot().levels;
  let m = 0;
  sa.forEach((l, i) => {
    for (const k of ['d1', 'd2', 'g1', 'g2'] as const) m = Math.max(m, maxDiff(host(l[k]), host(sb[i]![k])));
  });
  return m;
}

describe.each(DEVICES)('ContinuumMemory fused on %s', (device) => {
  describe.each(VARIANTS)('%s', (variant) => {
    it('outputs, Δ, G and counters equal the reference across calls; flush', () => {
      // unsorted chunk sizes: 1 (fires every token), odd, even, > every call
      const chunks = [3, 1, 4, 100];
      const [ref, fused] = pair(chunks, variant, device);
      const r = rng(variant.length);
      const B = 2;
      for (const T of [1, 5, 2, 7, 3]) {
        const x = randArr(r, B * T * D);
        const errs = chunks.map(() => randArr(r, B * T * D));
        const ya = host(ref.forward(on(x, [B, T, D], device, 'float64')));
        const yb = host(fused.forward(on(x, [B, T, D], device, 'float64')));
        expect(maxDiff(ya, yb)).toBeLessThan(1e-12);
        ref.observe(errs.map((e) => on(e, [B, T, D], device, 'float64')));
        fused.observe(errs.map((e) => on(e, [B, T, D], device, 'float64')));
        expect(fused.updates).toEqual(ref.updates);
        expect(fused.tokens).toBe(ref.tokens);
        expect(stateDiff(ref, fused)).toBeLessThan(1e-12);
      }
      expect(fused.updates[1]).toBe(18); // C = 1 fired at every token
      expect(maxDiff(host(fused.delta(2).w1), new Float64Array(DH * D))).toBeGreaterThan(0);
      ref.flush();
      fused.flush();
      expect(fused.updates).toEqual(ref.updates);
      expect(stateDiff(ref, fused)).toBeLessThan(1e-12);
    });

    it('every gradient (x, θ0, agg) and the error signals equal the reference, with Δ ≠ 0', () => {
      const chunks = [2, 3];
      const [ref, fused] = pair(chunks, variant, device);
      const r = rng(31);
      const B = 2,
        T = 6;
      const warm = randArr(r, B * T * D);
      const warmErr = chunks.map(() => randArr(r, B * T * D));
      for (const m of [ref, fused]) {
        m.forward(on(warm, [B, T, D], device, 'float64'));
        m.observe(warmErr.map((e) => on(e, [B, T, D], device, 'float64')));
      }
      const xa = randArr(r, B * T * D);
      const w = randArr(r, B * T * D);
      const grads = (m: ContinuumMemory) => {
        for (const p of m.parameters()) p.grad = null;
        const x = on(xa, [B, T, D], device, 'float64');
        x.requiresGrad = true;
        const y = m.forward(x, { probes: true });
        sum(mul(y, mul(y, on(w, [B, T, D], device, 'float64')))).backward(); // non-linear in y
        m.observeGrads(); // the error signals δ_ℓ drive the update
        return [host(x.grad!), ...m.parameters().map((p) => host(p.grad!))];
      };
      const ga = grads(ref);
      const gb = grads(fused);
      expect(gb.length).toBe(ga.length);
      ga.forEach((g, i) => {
        expect(maxDiff(g, gb[i]!)).toBeLessThan(1e-11);
        expect(maxDiff(g, new Float64Array(g.length))).toBeGreaterThan(0);
      });
      expect(fused.updates).toEqual(ref.updates);
      expect(stateDiff(ref, fused)).toBeLessThan(1e-12);
    });

    it('observeGrads after calls that end on boundaries (the backward gradients stand in for G)', () => {
      const chunks = [4, 8, 100]; // calls of 4 tokens: no fire inside a call
      const [ref, fused] = pair(chunks, variant, device);
      const r = rng(37);
      const B = 2,
        T = 4;
      for (let call = 0; call < 4; call++) {
        const xa = randArr(r, B * T * D);
        const w = randArr(r, B * T * D);
        for (const m of [ref, fused]) {
          const y = m.forward(on(xa, [B, T, D], device, 'float64'), { probes: true });
          sum(mul(y, on(w, [B, T, D], device, 'float64'))).backward();
          m.observeGrads();
        }
        expect(fused.updates).toEqual(ref.updates);
        expect(stateDiff(ref, fused)).toBeLessThan(1e-12);
      }
      expect(fused.updates).toEqual([4, 2, 0]);
    });

    it('gradients equal central finite differences (float64)', () => {
      const [, fused] = pair([2, 5], variant, device);
      const r = rng(41);
      const B = 1,
        T = 4;
      const xa = randArr(r, B * T * D);
      const w = randArr(r, B * T * D);
      const loss = (x: Tensor): Tensor => {
        const y = fused.forward(x);
        return sum(mul(mul(y, y), on(w, [B, T, D], device, 'float64')));
      };
      const x = on(xa, [B, T, D], device, 'float64');
      x.requiresGrad = true;
      loss(x).backward();
      const eps = 1e-6;
      const fd = (set: (d: number) => void): number => {
        set(eps);
        const lp = loss(on(xa, [B, T, D], device, 'float64')).item();
        set(-eps);
        const lm = loss(on(xa, [B, T, D], device, 'float64')).item();
        set(0);
        return (lp - lm) / (2 * eps);
      };
      for (const [name, p] of fused.namedParameters()) {
        const base = host(p);
        const g = host(p.grad!);
        for (const i of [0, base.length - 1]) {
          const num = fd((d) => {
            const v = base.slice();
            v[i] = v[i]! + d;
            fused.replaceParameter(name, on(v, p.shape as number[], device, 'float64'));
          });
          expect(Math.abs(num - g[i]!), `${name}[${i}]`).toBeLessThan(1e-6 * (1 + Math.abs(num)));
        }
      }
      const gx = host(x.grad!);
      for (const i of [0, 7, B * T * D - 1]) {
        const v = xa.slice();
        const l = (d: number) => {
          v[i] = xa[i]! + d;
          return loss(on(v, [B, T, D], device, 'float64')).item();
        };
        const num = (l(eps) - l(-eps)) / (2 * eps);
        expect(Math.abs(num - gx[i]!)).toBeLessThan(1e-6 * (1 + Math.abs(num)));
      }
    });

    it('float32: outputs, gradients and states match the reference within float32 rounding', () => {
      const chunks = [2, 7];
      const [ref, fused] = pair(chunks, variant, device, 'float32');
      const r = rng(53);
      const B = 3,
        T = 9;
      for (let call = 0; call < 3; call++) {
        const xa = randArr(r, B * T * D);
        const w = randArr(r, B * T * D);
        const outs = [ref, fused].map((m) => {
          for (const p of m.parameters()) p.grad = null;
          const y = m.forward(on(xa, [B, T, D], device, 'float32'), { probes: true });
          sum(mul(y, on(w, [B, T, D], device, 'float32'))).backward();
          m.observeGrads();
          return [host(y), ...m.parameters().map((p) => host(p.grad!))];
        });
        outs[0]!.forEach((a, i) => expect(maxDiff(a, outs[1]![i]!)).toBeLessThan(2e-5 * (1 + T * B)));
        expect(stateDiff(ref, fused)).toBeLessThan(1e-4);
      }
    });
  });

  it('an empty call (T = 0) gives an empty output and changes nothing', () => {
    const [ref, fused] = pair([2, 3], 'sequential', device);
    for (const m of [ref, fused]) {
      const x = on(new Float64Array(0), [2, 0, D], device, 'float64');
      x.requiresGrad = true;
      const y = m.forward(x, { probes: true });
      expect(y.shape).toEqual([2, 0, D]);
      sum(y).backward();
      m.observeGrads();
      expect(x.grad!.shape).toEqual([2, 0, D]);
      expect(maxDiff(host(m.parameters()[0]!.grad!), new Float64Array(DH * D))).toBe(0);
    }
    expect(fused.updates).toEqual([0, 0]);
    expect(fused.tokens).toBe(0);
  });

  it('snapshot / restore and freeze behave as the reference', () => {
    const [ref, fused] = pair([2, 3], 'nested', device);
    const r = rng(67);
    const xs = [0, 1, 2].map(() => randArr(r, 5 * D));
    const es = [0, 1, 2].map(() => [randArr(r, 5 * D), randArr(r, 5 * D)]);
    const call = (m: ContinuumMemory, i: number) => {
      m.forward(on(xs[i]!, [1, 5, D], device, 'float64'));
      m.observe(es[i]!.map((e) => on(e, [1, 5, D], device, 'float64')));
    };
    for (const m of [ref, fused]) call(m, 0);
    const snap = fused.snapshot();
    call(fused, 1);
    fused.restore(snap);
    for (const m of [ref, fused]) call(m, 1);
    expect(fused.updates).toEqual(ref.updates);
    expect(stateDiff(ref, fused)).toBeLessThan(1e-12);
    for (const m of [ref, fused]) {
      m.freeze();
      call(m, 2);
      m.flush();
    }
    expect(fused.updates).toEqual(ref.updates);
    expect(fused.tokens).toBe(10);
    expect(stateDiff(ref, fused)).toBeLessThan(1e-12);
  });

  it('bad input: unknown impl, dtype mismatch, wrong error shapes, observeGrads without backward', () => {
    expect(
      () => new ContinuumMemory({ dim: D, hidden: DH, levels: [{ chunkSize: 2 }], impl: 'gpu' as 'loop' }),
    ).toThrow(/impl must be 'loop' or 'fused', got "gpu"/);
    const [, fused] = pair([2, 3], 'sequential', device);
    const r = rng(61);
    expect(() => fused.forward(on(randArr(r, 2 * D), [1, 2, D], device, 'float32'))).toThrow(
      /ContinuumMemory: x is float32 but the parameters are float64/,
    );
    fused.forward(on(randArr(r, 2 * D), [1, 2, D], device, 'float64'));
    expect(() => fused.observe([on(randArr(r, 2 * D), [1, 2, D], device, 'float64')])).toThrow(
      /expected 2 error tensors/,
    );
    expect(() =>
      fused.observe([0, 1].map(() => on(randArr(r, 3 * D), [1, 3, D], device, 'float64'))),
    ).toThrow(/errors\[0\] must be \[1, 2, 3\]/);
    fused.forward(on(randArr(r, 2 * D), [1, 2, D], device, 'float64'), { probes: true });
    expect(() => fused.observeGrads()).toThrow(/no gradient; run backward first/);
    expect(fused.tokens).toBe(0);
  });
});

describe('ContinuumMemory fused: README example and host syncs', () => {
  it('the README example as written: the 4-token level fires twice', () => {
    manualSeed(1);
    const cms = new ContinuumMemory({
      dim: 8,
      hidden: 16,
      levels: [{ chunkSize: 4 }, { chunkSize: 16 }],
      impl: 'fused',
    });
    const x = randn([2, 8, 8]);
    const y = cms.forward(x, { probes: true });
    y.square().sum().backward();
    cms.observeGrads();
    expect(cms.updates).toEqual([2, 0]);
  });

  it('forward, backward, observeGrads and flush on sim download nothing', () => {
    enableSimDevice();
    for (const variant of VARIANTS) {
      const [, fused] = pair([2, 3], variant, 'sim', 'float32');
      const x = on(randArr(rng(71), 2 * 5 * D), [2, 5, D], 'sim', 'float32');
      resetSimTransfers();
      for (let call = 0; call < 2; call++) {
        const y = fused.forward(x, { probes: true });
        sum(mul(y, y)).backward();
        fused.observeGrads();
      }
      fused.flush();
      expect(simTransfers().downloads, variant).toBe(0);
      expect(fused.updates).toEqual([5, 4]);
    }
  });
});
