/**
 * unitLowerInverse ((I + N)⁻¹ for strictly lower triangular N, used by the chunked
 * SelfModifyingTitans) against float64 forward substitution, for short and long (blocked)
 * segments, including nearly parallel keys with large steps in float32.
 */
import { describe, expect, it } from 'vitest';
import { tensor } from '@nl/tensor';
import { segConsts, unitLowerInverse } from '../../src/modules/self-modifying-chunked-decay.js';
import { maxDiff, rng } from './helpers.js';

/** Strictly lower N [L, L] = b · (k_t · k_j), unit keys spread around a common direction. */
function lowerN(r: ReturnType<typeof rng>, L: number, b: number, spread: number): number[][] {
  const base = Array.from({ length: 6 }, () => r());
  const keys = Array.from({ length: L }, () => {
    const k = base.map((z) => z + spread * r());
    const n = Math.hypot(...k);
    return k.map((z) => z / n);
  });
  return keys.map((kt, t) =>
    keys.map((kj, j) => (j < t ? b * kt.reduce((s, z, i) => s + z * kj[i]!, 0) : 0)),
  );
}

/** (I + N)⁻¹ by forward substitution, column by column. */
function refInverse(n: number[][]): number[] {
  const L = n.length;
  const x = Array.from({ length: L }, () => new Array<number>(L).fill(0));
  for (let c = 0; c < L; c++)
    for (let t = 0; t < L; t++) {
      let v = t === c ? 1 : 0;
      for (let j = 0; j < t; j++) v -= n[t]![j]! * x[j]![c]!;
      x[t]![c] = v;
    }
  return x.flat();
}

describe('unitLowerInverse', () => {
  for (const L of [1, 2, 7, 8, 9, 20, 64]) {
    it(`L = ${L}: float64 exact, float32 accurate with nearly parallel keys`, () => {
      const r = rng(L);
      for (const [b, spread] of [
        [0.3, 1],
        [0.95, 0.01],
      ] as const) {
        const n = lowerN(r, L, b, spread);
        const ref = refInverse(n);
        for (const [dtype, tol] of [
          ['float64', 1e-12],
          ['float32', 1e-5],
        ] as const) {
          const nt = tensor(n.flat(), { shape: [1, L, L], dtype });
          const inv = unitLowerInverse(nt, segConsts(L, 0.9, dtype, 'cpu'));
          expect(inv.shape).toEqual([1, L, L]);
          expect(maxDiff(inv.dataSync(), ref), `${dtype} b ${b} spread ${spread}`).toBeLessThan(tol);
        }
      }
    });
  }
});
