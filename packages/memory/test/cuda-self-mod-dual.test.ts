/**
 * memory.selfModifyingTitans on 'cuda' in chunk ("dual") form (`dual: true`, the default; kernels
 * native/src/cuda/kernels/self_mod_dual*.h, run by the host emulator) against the 'cpu' fused
 * kernels in the same form (native/src/cpu/self_mod_dual*.h, same pieces): o, the six final states
 * and the gradients of x, q and all six carried states (adjoints of every final state), float64
 * within 1e-9 and float32 within rtol 2e-3 / atol 2e-5 (the CPU rounds every GEMM, the substitution
 * and its sigmoid (exp_approx, ~2e-7) to float32 where the CUDA kernels sum in double; the
 * recurrence over T tokens and its reversal amplify those ~1e-7 differences to ~1e-5 at most);
 * over odd T, T below one chunk, several chunk sizes including Hope's two (chunkMem 8 x
 * chunkOther), calls starting mid-chunk, momentum 0, backward blocks, adaptiveQ, readSnapshot,
 * absent output gradients, the emulator's race check; the module's calls cut into pieces == one call against the token loop;
 * and the token form (`dual: false`) == the chunk form on cuda; all of it also with the
 * inner-gradient clip (innerGradClip, acting: the 'cpu' fused kernel's clip, cpu/self_mod_clip.h,
 * and the token loop's for calls cut into pieces). Shapes stay tiny (the emulator runs
 * every thread of every block on the host).
 */
import { cat, tensor, type Tensor } from '@nl/tensor';
import { assertClose, enableCudaEmulation, setCudaEmulatorOrder } from '@nl/tensor/testing';
import { describe, expect, it } from 'vitest';
import { SelfModifyingTitans } from '../src/index.js';
import { SELF_MOD_STATES } from '../src/kernels/index.js';
import type { FusedSelfModAttrs } from '../src/modules/self-modifying-fused.js';
import {
  base as shared,
  type Case,
  compare,
  compareClip,
  data,
  NAMES,
  run,
} from './cuda-self-mod-helpers.js';
import { randArr, rng } from './modules/helpers.js';

enableCudaEmulation();

const base: FusedSelfModAttrs = { ...shared, dual: true };

describe('memory.selfModifyingTitans dual form on cuda == cpu dual form', () => {
  const cases: [string, Case, FusedSelfModAttrs][] = [
    ['odd T over several chunks, B, H > 1, Dh > D', { B: 2, T: 7, H: 2, D: 3, Dh: 4 }, base],
    ['T below one chunk, Dh < D', { B: 1, T: 3, H: 1, D: 4, Dh: 2 }, { ...base, chunkMem: 8, chunkOther: 4 }],
    ["Hope's chunk sizes (chunkMem 8 x chunkOther), T 13 from token 5", { B: 1, T: 13, H: 1, D: 3, Dh: 2 }, { ...base, tokens: 5, chunkMem: 8, chunkOther: 1 }],
    ['chunkMem 8, chunkOther 2, backward blocks of 5', { B: 1, T: 11, H: 1, D: 2, Dh: 3 }, { ...base, chunkMem: 8, chunkOther: 2, block: 5 }],
    ['starts mid-chunk, momentum 0, backward blocks of 2', { B: 1, T: 6, H: 2, D: 3, Dh: 3 }, { ...base, tokens: 4, momentum: 0, block: 2 }],
    ['readSnapshot, chunk 1 for mem', { B: 1, T: 5, H: 1, D: 3, Dh: 2 }, { ...base, chunkMem: 1, readSnapshot: true }],
    ['readSnapshot, chunks 4 / 3', { B: 1, T: 7, H: 1, D: 2, Dh: 3 }, { ...base, chunkMem: 4, chunkOther: 3, readSnapshot: true }],
    ['adaptiveQ, chunks 4 / 2', { B: 1, T: 6, H: 2, D: 2, Dh: 2 }, { ...base, tokens: 3, chunkMem: 4, adaptiveQ: true }],
    ['adaptiveQ + readSnapshot, blocks of 3', { B: 2, T: 5, H: 1, D: 2, Dh: 3 }, { ...base, tokens: 1, adaptiveQ: true, readSnapshot: true, block: 3 }],
    ['more columns and hidden units than threads', { B: 1, T: 3, H: 1, D: 40, Dh: 12 }, { ...base, tokens: 1, chunkMem: 4, chunkOther: 4 }],
    ['T 20, the default block (the whole call, as the cpu op)', { B: 1, T: 20, H: 1, D: 4, Dh: 3 }, { ...base, chunkMem: 4, chunkOther: 3 }],
    ['T 20 over three backward blocks of 7', { B: 1, T: 20, H: 1, D: 4, Dh: 3 }, { ...base, chunkMem: 4, chunkOther: 3, block: 7 }],
  ]; // prettier-ignore
  for (const dtype of ['float64', 'float32'] as const)
    for (const [name, c, a] of cases) it(`${dtype}: ${name}`, () => void compare(dtype, c, a));

  it('absent output gradient (only the final states carry a loss)', () => {
    compare('float64', { B: 1, T: 5, H: 2, D: 2, Dh: 3 }, base, 9, true);
  });

  it('race check: every launch run in four thread / block orders gives one result', () => {
    const before = setCudaEmulatorOrder('check');
    try {
      compare('float64', { B: 2, T: 7, H: 1, D: 3, Dh: 4 }, { ...base, chunkMem: 4, block: 5 }, 11);
      compare(
        'float64',
        { B: 1, T: 6, H: 1, D: 2, Dh: 3 },
        { ...base, adaptiveQ: true, readSnapshot: true },
        12,
      );
    } finally {
      setCudaEmulatorOrder(before);
    }
  });

  for (const clip of [0, 0.05])
    it(`the token form (dual: false) on cuda gives the same o, states and gradients${clip ? ' (innerGradClip)' : ''}`, () => {
      const c = { B: 1, T: 9, H: 1, D: 3, Dh: 2 };
      const a = { ...base, tokens: 2, chunkMem: 4, chunkOther: 2, innerGradClip: clip };
      const d = data(c, a, 5);
      const dual = run('cuda', 'float64', c, a, d);
      const token = run('cuda', 'float64', c, { ...a, dual: false }, d);
      const t = { rtol: 1e-9, atol: 1e-11 };
      assertClose('o', token.o, dual.o, t);
      token.fin.forEach((f, i) => assertClose(`final ${SELF_MOD_STATES[i]}`, f, dual.fin[i]!, t));
      token.grads.forEach((g, i) => g && assertClose(NAMES[i]!, g, dual.grads[i]!, t));
    }); // prettier-ignore
});

describe('memory.selfModifyingTitans dual form on cuda with innerGradClip == cpu dual form', () => {
  const cases: [string, Case, FusedSelfModAttrs][] = [
    ['odd T over several chunks, B, H > 1, Dh > D', { B: 2, T: 7, H: 2, D: 3, Dh: 4 }, { ...base, innerGradClip: 0.05 }],
    ['chunkMem 8, chunkOther 2, from token 3, backward blocks of 5', { B: 1, T: 11, H: 1, D: 2, Dh: 3 }, { ...base, tokens: 3, chunkMem: 8, chunkOther: 2, block: 5, innerGradClip: 0.03 }],
    ['adaptiveQ + readSnapshot, momentum 0', { B: 1, T: 6, H: 2, D: 2, Dh: 2 }, { ...base, tokens: 1, adaptiveQ: true, readSnapshot: true, momentum: 0, innerGradClip: 0.05 }],
  ]; // prettier-ignore
  for (const dtype of ['float64', 'float32'] as const)
    for (const [name, c, a] of cases) it(`${dtype}: ${name}`, () => void compareClip(dtype, c, a));

  it('race check with the clip: every launch in four thread / block orders gives one result', () => {
    const before = setCudaEmulatorOrder('check');
    try {
      compareClip('float64', { B: 1, T: 5, H: 1, D: 3, Dh: 2 }, { ...base, chunkMem: 4, block: 3, innerGradClip: 0.05 }, 13);
    } finally {
      setCudaEmulatorOrder(before);
    }
  }); // prettier-ignore
});

/** The module on cuda (impl 'fused', its default dual form) in calls cut at `cuts` vs impl 'loop' on the CPU. */
function moduleCompare(c: Case, cuts: number[], seed: number, innerGradClip = 0) {
  const { B, T, H, D, Dh } = c;
  const r = rng(seed);
  const cfg = {
    heads: H,
    dim: D,
    hidden: Dh,
    dtype: 'float64' as const,
    chunkMem: 4,
    chunkOther: 2,
    innerGradClip,
  };
  const loop = new SelfModifyingTitans({ ...cfg, impl: 'loop' });
  const fused = new SelfModifyingTitans({ ...cfg, impl: 'fused' });
  for (const n of loop.names) {
    const w1 = randArr(r, H * D * Dh, -0.6, 0.6);
    const w2 = randArr(r, H * Dh * D, -0.6, 0.6);
    for (const m of [loop, fused]) {
      m.memories[n]!.replaceParameter('w1', tensor(Array.from(w1), { shape: [H, D, Dh], dtype: 'float64' }));
      m.memories[n]!.replaceParameter('w2', tensor(Array.from(w2), { shape: [H, Dh, D], dtype: 'float64' }));
    }
  }
  fused.to('cuda');
  const x = randArr(r, B * T * H * D);
  const q = randArr(r, B * T * H * D);
  const res = ([[loop, 'cpu', []], [fused, 'cuda', cuts]] as const).map(([m, device, cs]) => {
    const t = (a: Float64Array) => tensor(Array.from(a), { shape: [B, T, H, D], dtype: 'float64', device, requiresGrad: true });
    const [xt, qt] = [t(x), t(q)];
    const bounds = [0, ...cs, T];
    const outs: Tensor[] = [];
    for (let i = 0; i + 1 < bounds.length; i++) outs.push(m.forward(xt.narrow(1, bounds[i]!, bounds[i + 1]! - bounds[i]!), qt.narrow(1, bounds[i]!, bounds[i + 1]! - bounds[i]!)));
    const o = outs.length === 1 ? outs[0]! : cat(outs, 1);
    let loss = o.square().sum();
    for (const nm of m.names) loss = loss.add(m.fast(nm)!.w2.square().sum());
    loss.backward();
    const grads = m.names.flatMap((nm) => [m.memories[nm]!.w1.grad!, m.memories[nm]!.w2.grad!].map((g) => Array.from(g.dataSync())));
    return { o: Array.from(o.dataSync()), gx: Array.from(xt.grad!.dataSync()), gq: Array.from(qt.grad!.dataSync()), grads };
  }); // prettier-ignore
  const t = { rtol: 1e-9, atol: 1e-11 };
  assertClose('o', res[0]!.o, res[1]!.o, t);
  assertClose('grad x', res[0]!.gx, res[1]!.gx, t);
  assertClose('grad q', res[0]!.gq, res[1]!.gq, t);
  res[0]!.grads.forEach((g, i) => assertClose(`grad ${i}`, g, res[1]!.grads[i]!, t));
  expect(res[1]!.o.length).toBe(B * T * H * D);
}

describe("SelfModifyingTitans impl 'fused' on cuda (dual form) == impl 'loop' (float64)", () => {
  it('calls cut into pieces == one call (cuts mid-chunk and mid-piece)', () => {
    moduleCompare({ B: 1, T: 9, H: 1, D: 3, Dh: 2 }, [1, 4, 7], 41);
  });
  it('innerGradClip, calls cut into pieces == one call of the loop', () => {
    moduleCompare({ B: 1, T: 9, H: 1, D: 3, Dh: 2 }, [2, 5], 42, 0.05);
  });
});
