/**
 * The fused (native chunked, defineOp) path of LinearMemory / GatedDeltaMemory equals the
 * token-loop path: outputs, carried state and the gradients of M0, q, k, v, α, β — across
 * chunk sizes 1 / 3 / 64, two calls with the state carried, zero and one gates.
 */
import { describe, expect, it } from 'vitest';
import { mul, type Tensor } from '@nl/tensor';
import { GatedDeltaMemory, LinearMemory } from '../../src/index.js';
import { maxDiff, randArr, rng, t64 } from './helpers.js';

const B = 2,
  T = 7,
  H = 2,
  DK = 3,
  DV = 4;

for (const Ctor of [LinearMemory, GatedDeltaMemory]) {
  describe(`${Ctor.name} fused == loop`, () => {
    for (const chunkSize of [1, 3, 64]) {
      it(`chunk size ${chunkSize}: outputs, state and gradients agree`, () => {
        const r = rng(31 + chunkSize);
        const d = {
          m0: randArr(r, H * DV * DK),
          q: randArr(r, B * T * H * DK),
          k: randArr(r, B * T * H * DK),
          v: randArr(r, B * T * H * DV),
          al: randArr(r, B * T * H, 0.5, 1),
          be: randArr(r, B * T * H, 0, 1),
          w: randArr(r, B * T * H * DV),
        };
        d.al[0] = 0;
        d.al[4] = 1;
        d.be[6] = 0;
        d.be[7] = 1;
        const run = (impl: 'loop' | 'fused') => {
          const mem = new Ctor({ heads: H, dk: DK, dv: DV, dtype: 'float64', impl, chunkSize });
          const m0 = t64(d.m0, [H, DV, DK], true);
          mem.replaceParameter('m0', m0);
          const ins = [
            t64(d.q, [B, T, H, DK], true),
            t64(d.k, [B, T, H, DK], true),
            t64(d.v, [B, T, H, DV], true),
            t64(d.al, [B, T, H], true),
            t64(d.be, [B, T, H], true),
          ];
          const [q, k, v, alpha, beta] = ins as [Tensor, Tensor, Tensor, Tensor, Tensor];
          const o1 = mem.forward(q, k, v, { alpha, beta });
          const o2 = mem.forward(q, k, v, { alpha, beta }); // second call: the carried state matters
          mul(o1, t64(d.w, [B, T, H, DV]))
            .sum()
            .add(o2.sum())
            .backward();
          return {
            o: [...o1.dataSync(), ...o2.dataSync()],
            m: mem.state!.m!.dataSync(),
            grads: [mem.m0, ...ins].map((x) => x.grad!.dataSync()),
          };
        };
        const a = run('loop');
        const b = run('fused');
        expect(maxDiff(a.o, b.o)).toBeLessThan(1e-11);
        expect(maxDiff(a.m, b.m)).toBeLessThan(1e-11);
        a.grads.forEach((g, i) => expect(maxDiff(g, b.grads[i]!), `grad ${i}`).toBeLessThan(1e-10));
      });
    }
  });
}
