/**
 * TitansMemory impl 'fused' (native mini-batch chunk kernels through defineOp, loop for partial
 * chunks at call ends) equals the token loop: outputs, carried state and the gradients of the
 * initial weights, q, k, v, θ, η, α — chunk sizes 1 / 3 / 4, calls that start mid-chunk, both
 * read orders, zero and one gates; and with the inner-gradient clip (`innerGradClip`: one fused
 * call per chunk, the clip factors from tensor ops at the chunk-start weights).
 */
import { describe, expect, it } from 'vitest';
import { mul, type Tensor } from '@nl/tensor';
import { TitansMemory } from '../../src/index.js';
import { maxDiff, randArr, rng, t64 } from './helpers.js';

const B = 2,
  H = 2,
  D = 3,
  DH = 4;
const LENS = [5, 8, 2]; // the second call starts mid-chunk for C = 3 and 4

describe('TitansMemory fused == loop', () => {
  for (const [chunkSize, readAfterWrite, innerGradClip] of [
    [1, true, 0],
    [3, true, 0],
    [4, false, 0],
    [3, true, 0.05],
    [4, false, 0.05],
  ] as const) {
    it(`chunk ${chunkSize}, readAfterWrite ${readAfterWrite}${innerGradClip ? `, innerGradClip ${innerGradClip}` : ''}`, () => {
      const r = rng(41 + chunkSize);
      const w1 = randArr(r, H * D * DH, -0.5, 0.5),
        w2 = randArr(r, H * DH * D, -0.5, 0.5);
      const calls = LENS.map((L) => {
        const n = B * L * H * D,
          g = B * L * H;
        const c = {
          q: randArr(r, n),
          k: randArr(r, n),
          v: randArr(r, n),
          th: randArr(r, g, 0.05, 0.5),
          et: randArr(r, g, 0, 0.9),
          al: randArr(r, g, 0, 0.2),
          w: randArr(r, n),
          L,
        };
        c.al[0] = 1;
        c.et[1] = 0;
        return c;
      });
      const run = (impl: 'loop' | 'fused') => {
        const mem = new TitansMemory({
          heads: H,
          dk: D,
          dv: D,
          hidden: DH,
          chunkSize,
          readAfterWrite,
          impl,
          innerGradClip,
          dtype: 'float64',
        });
        mem.replaceParameter('w1', t64(w1, [H, D, DH], true));
        mem.replaceParameter('w2', t64(w2, [H, DH, D], true));
        const leaves: Tensor[] = [];
        const outs: number[] = [];
        let loss: Tensor | null = null;
        for (const c of calls) {
          const ins = [
            t64(c.q, [B, c.L, H, D], true),
            t64(c.k, [B, c.L, H, D], true),
            t64(c.v, [B, c.L, H, D], true),
            t64(c.th, [B, c.L, H], true),
            t64(c.et, [B, c.L, H], true),
            t64(c.al, [B, c.L, H], true),
          ];
          leaves.push(...ins);
          const [q, k, v, theta, eta, alpha] = ins as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
          const o = mem.forward(q, k, v, { theta, eta, alpha });
          outs.push(...o.dataSync());
          const term = mul(o, t64(c.w, [B, c.L, H, D])).sum();
          loss = loss === null ? term : loss.add(term);
        }
        loss!.add(mem.state!.w1!.sum()).backward();
        return {
          outs,
          w2: mem.state!.w2!.dataSync(),
          grads: [mem.w1, mem.w2, ...leaves].map((x) => x.grad!.dataSync()),
        };
      };
      const a = run('loop');
      const b = run('fused');
      expect(maxDiff(a.outs, b.outs)).toBeLessThan(1e-11);
      expect(maxDiff(a.w2, b.w2)).toBeLessThan(1e-11);
      a.grads.forEach((g, i) => expect(maxDiff(g, b.grads[i]!), `grad ${i}`).toBeLessThan(1e-9));
    });
  }
});
