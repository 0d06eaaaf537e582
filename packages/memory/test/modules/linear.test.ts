/**
 * LinearMemory and GatedDeltaMemory vs an independent float64 loop; pieces == one call;
 * snapshot/restore; freeze; outer gradients vs finite differences; bad input.
 */
import { describe, expect, it } from 'vitest';
import { gradcheck, type Tensor } from '@nl/tensor';
import { GatedDeltaMemory, LinearMemory, setDebugChecks } from '../../src/index.js';
import { maxDiff, randArr, rng, sliceTokens, t64 } from './helpers.js';

const B = 2,
  T = 7,
  H = 2,
  DK = 3,
  DV = 2;

/** Literal recurrence on plain arrays: M [Dv][Dk] per (b, h); o_t = M_t q_t. */
function refLoop(
  erase: boolean,
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  al: Float64Array,
  be: Float64Array,
  m0: Float64Array,
): Float64Array {
  const o = new Float64Array(B * T * H * DV);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const M = Array.from({ length: DV }, (_, i) =>
        Array.from({ length: DK }, (_, j) => m0[(h * DV + i) * DK + j]!),
      );
      for (let t = 0; t < T; t++) {
        const g = (b * T + t) * H + h;
        const kk = Array.from({ length: DK }, (_, j) => k[g * DK + j]!);
        const mk = M.map((row) => row.reduce((s, x, j) => s + x * kk[j]!, 0));
        for (let i = 0; i < DV; i++)
          for (let j = 0; j < DK; j++) {
            const erased = erase ? M[i]![j]! - be[g]! * mk[i]! * kk[j]! : M[i]![j]!;
            M[i]![j] = al[g]! * erased + be[g]! * v[g * DV + i]! * kk[j]!;
          }
        for (let i = 0; i < DV; i++) o[g * DV + i] = M[i]!.reduce((s, x, j) => s + x * q[g * DK + j]!, 0);
      }
    }
  return o;
}

function data(seed: number) {
  const r = rng(seed);
  const q = randArr(r, B * T * H * DK),
    k = randArr(r, B * T * H * DK),
    v = randArr(r, B * T * H * DV);
  const al = randArr(r, B * T * H, 0.5, 1),
    be = randArr(r, B * T * H, 0, 1);
  al[3] = 0; // a wipe
  be[5] = 0; // a skipped write
  const m0 = randArr(r, H * DV * DK);
  return { q, k, v, al, be, m0 };
}

for (const [name, Ctor, erase] of [
  ['LinearMemory', LinearMemory, false],
  ['GatedDeltaMemory', GatedDeltaMemory, true],
] as const) {
  describe(name, () => {
    const mk = (m0: Float64Array) => {
      const mem = new Ctor({ heads: H, dk: DK, dv: DV, dtype: 'float64' });
      mem.replaceParameter('m0', t64(m0, [H, DV, DK]));
      return mem;
    };
    const fwd = (
      mem: InstanceType<typeof Ctor>,
      d: ReturnType<typeof data>,
      t0: number,
      t1: number,
    ): Tensor =>
      mem.forward(
        t64(sliceTokens(d.q, B, T, H * DK, t0, t1), [B, t1 - t0, H, DK]),
        t64(sliceTokens(d.k, B, T, H * DK, t0, t1), [B, t1 - t0, H, DK]),
        t64(sliceTokens(d.v, B, T, H * DV, t0, t1), [B, t1 - t0, H, DV]),
        {
          alpha: t64(sliceTokens(d.al, B, T, H, t0, t1), [B, t1 - t0, H]),
          beta: t64(sliceTokens(d.be, B, T, H, t0, t1), [B, t1 - t0, H]),
        },
      );

    it('matches the literal float64 recurrence', () => {
      const d = data(1);
      const o = fwd(mk(d.m0), d, 0, T);
      expect(o.shape).toEqual([B, T, H, DV]);
      expect(maxDiff(o.dataSync(), refLoop(erase, d.q, d.k, d.v, d.al, d.be, d.m0))).toBeLessThan(1e-12);
    });

    it('one call == pieces (state carried) == token by token', () => {
      const d = data(2);
      const whole = fwd(mk(d.m0), d, 0, T).dataSync();
      const m2 = mk(d.m0);
      const pieces = [fwd(m2, d, 0, 3), fwd(m2, d, 3, T)];
      expect(m2.tokens).toBe(T);
      const m3 = mk(d.m0);
      const tokens = Array.from({ length: T }, (_, t) => fwd(m3, d, t, t + 1));
      for (let t = 0; t < T; t++) {
        const ref = sliceTokens(whole as Float64Array, B, T, H * DV, t, t + 1);
        const p =
          t < 3
            ? sliceTokens(pieces[0]!.dataSync() as Float64Array, B, 3, H * DV, t, t + 1)
            : sliceTokens(pieces[1]!.dataSync() as Float64Array, B, T - 3, H * DV, t - 3, t - 2);
        expect(maxDiff(p, ref)).toBeLessThan(1e-13);
        expect(maxDiff(tokens[t]!.dataSync(), ref)).toBeLessThan(1e-13);
      }
    });

    it('snapshot / restore round trip; reset starts from M0; frozen memories never change', () => {
      const d = data(3);
      const mem = mk(d.m0);
      fwd(mem, d, 0, 3);
      const snap = mem.snapshot();
      const a = fwd(mem, d, 3, T).dataSync();
      mem.restore(snap);
      expect(mem.tokens).toBe(3);
      expect(maxDiff(fwd(mem, d, 3, T).dataSync(), a)).toBe(0);
      mem.reset();
      expect(maxDiff(fwd(mem, d, 0, T).dataSync(), fwd(mk(d.m0), d, 0, T).dataSync())).toBe(0);
      const before = mem.state!.m!.dataSync();
      mem.freeze();
      const o = fwd(mem, d, 0, T);
      mem.write(t64(d.k, [B, T, H, DK]), t64(d.v, [B, T, H, DV]));
      expect(maxDiff(mem.state!.m!.dataSync(), before)).toBe(0);
      expect(maxDiff(o.dataSync(), mem.read(t64(d.q, [B, T, H, DK])).dataSync())).toBe(0);
      mem.unfreeze();
      fwd(mem, d, 0, 1);
      expect(maxDiff(mem.state!.m!.dataSync(), before)).toBeGreaterThan(0);
    });

    it('outer gradient reaches M0, q, k, v and the gates (vs finite differences)', () => {
      const d = data(4);
      const mem = mk(d.m0);
      const fn = (m0: Tensor, q: Tensor, k: Tensor, v: Tensor, al: Tensor, be: Tensor): Tensor => {
        mem.replaceParameter('m0', m0);
        mem.reset();
        return mem.forward(q, k, v, { alpha: al, beta: be });
      };
      const ins = [
        t64(d.m0, [H, DV, DK]),
        t64(d.q, [B, T, H, DK]),
        t64(d.k, [B, T, H, DK]),
        t64(d.v, [B, T, H, DV]),
        t64(d.al, [B, T, H]),
        t64(d.be, [B, T, H]),
      ];
      const res = gradcheck(fn, ins, { atol: 1e-7, rtol: 1e-6 });
      expect(res.checked).toBe(ins.reduce((s, x) => s + x.numel, 0));
      const m0 = t64(d.m0, [H, DV, DK], true);
      const out = fn(m0, ...(ins.slice(1) as [Tensor, Tensor, Tensor, Tensor, Tensor]));
      out.sum().backward();
      expect(maxDiff(m0.grad!.dataSync(), new Float64Array(m0.numel))).toBeGreaterThan(0);
    });

    it('rejects bad input with clear errors', () => {
      const mem = new Ctor({ heads: H, dk: DK, dv: DV, dtype: 'float64' });
      const d = data(5);
      const q = t64(d.q, [B, T, H, DK]),
        k = t64(d.k, [B, T, H, DK]),
        v = t64(d.v, [B, T, H, DV]);
      expect(() => mem.forward(q, k, t64(d.k, [B, T, H, DK]))).toThrow(/v must be \[B, T, 2, 2\]/);
      expect(() => mem.forward(q, k, v, { alpha: t64(new Float64Array(B * H), [B, 1, H]) })).toThrow(
        /gate alpha must be/,
      );
      const bad = Float64Array.from(d.al);
      bad[2] = Number.NaN;
      const prev = setDebugChecks(true); // finiteness is an opt-in debug check (a host read)
      try {
        expect(() => mem.forward(q, k, v, { alpha: t64(bad, [B, T, H]) })).toThrow(/non-finite/);
      } finally {
        setDebugChecks(prev);
      }
      expect(() => new Ctor({ heads: 0, dk: DK, dv: DV })).toThrow(/heads must be a positive integer/);
      mem.forward(q, k, v);
      expect(() =>
        mem.forward(
          t64(d.q.subarray(0, T * H * DK), [1, T, H, DK]),
          t64(d.k.subarray(0, T * H * DK), [1, T, H, DK]),
          t64(d.v.subarray(0, T * H * DV), [1, T, H, DV]),
        ),
      ).toThrow(/reset/);
    });
  });
}
