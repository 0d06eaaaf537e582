/**
 * Shared by the CUDA SelfModifyingTitans tests (cuda-self-mod*.test.ts): seeded inputs, the fused
 * op forward + backward on one device (loss over o and every final state), and the comparison of
 * the 'cuda' op against the 'cpu' op (o, the six final states, every gradient); with
 * attrs.innerGradClip, the same comparison plus a check that the clip acts (compareClip).
 */
import { mul, tensor, type Tensor } from '@nl/tensor';
import { assertClose } from '@nl/tensor/testing';
import { expect } from 'vitest';
import { SELF_MOD_STATES } from '../src/kernels/index.js';
import { fusedSelfMod, type FusedSelfModAttrs } from '../src/modules/self-modifying-fused.js';
import { randArr, rng } from './modules/helpers.js';
import { SELF_MOD_BASE } from './kernels/self-mod-cases.js';

export type DT = 'float32' | 'float64';
export interface Case {
  B: number;
  T: number;
  H: number;
  D: number;
  Dh: number;
}

/** The CPU kernel tests' starting attributes (kernels/self-mod-cases.ts). */
export const base: FusedSelfModAttrs = SELF_MOD_BASE;

const stateShape = (c: Case, M: number, s: string) =>
  s.endsWith('1') ? [c.B, M, c.H, c.D, c.Dh] : [c.B, M, c.H, c.Dh, c.D];

export function data(c: Case, a: FusedSelfModAttrs, seed: number) {
  const r = rng(seed);
  const M = a.adaptiveQ ? 6 : 5;
  const n = c.B * c.T * c.H * c.D;
  const ns = c.B * M * c.H * c.D * c.Dh;
  const scale: Record<string, number> = { w1: 0.5, w2: 0.5, s1: 0.1, s2: 0.1, a1: 0.5, a2: 0.5 };
  return {
    M,
    x: randArr(r, n),
    q: randArr(r, n),
    st: SELF_MOD_STATES.map((s) => randArr(r, ns, -scale[s]!, scale[s]!)),
    wo: randArr(r, n),
    ws: SELF_MOD_STATES.map(() => randArr(r, ns)),
  };
}

/** The op forward + backward on one device; the loss weighs o (unless noO) and every final state. */
export function run(device: 'cpu' | 'cuda', dtype: DT, c: Case, a: FusedSelfModAttrs, d: ReturnType<typeof data>, noO = false) {
  const mk = (v: Float64Array, shape: number[], requiresGrad = true) =>
    tensor(Array.from(v), { shape, dtype, device, requiresGrad });
  const seq = [c.B, c.T, c.H, c.D];
  const ins = [mk(d.x, seq), mk(d.q, seq, !a.adaptiveQ), ...SELF_MOD_STATES.map((s, i) => mk(d.st[i]!, stateShape(c, d.M, s)))];
  const [o, ...fin] = fusedSelfMod(ins[0]!, ins[1]!, ins.slice(2), a);
  let loss = noO ? null : mul(o!, mk(d.wo, seq, false)).sum();
  fin.forEach((f, i) => {
    const l = mul(f, mk(d.ws[i]!, [...f.shape], false)).sum();
    loss = loss ? loss.add(l) : l;
  });
  loss!.backward();
  const arr = (t: Tensor) => Array.from(t.dataSync());
  return { o: arr(o!), fin: fin.map(arr), grads: ins.map((t) => (t.grad ? arr(t.grad) : null)) };
} // prettier-ignore

export const NAMES = ['dx', 'dq', ...SELF_MOD_STATES.map((s) => `d${s}`)];
export const tol = (dtype: DT) =>
  dtype === 'float32' ? { rtol: 2e-3, atol: 2e-5 } : { rtol: 1e-9, atol: 1e-11 };

/** The op on 'cpu' and on 'cuda' (same data): every output and gradient within tol(dtype). */
export function compare(dtype: DT, c: Case, a: FusedSelfModAttrs, seed = 7, noO = false) {
  const d = data(c, a, seed);
  const cpu = run('cpu', dtype, c, a, d, noO);
  const gpu = run('cuda', dtype, c, a, d, noO);
  assertClose('o', cpu.o, gpu.o, tol(dtype));
  cpu.fin.forEach((f, i) => assertClose(`final ${SELF_MOD_STATES[i]}`, f, gpu.fin[i]!, tol(dtype)));
  cpu.grads.forEach((g, i) => {
    if (g === null) expect(gpu.grads[i], NAMES[i]).toBeNull();
    else assertClose(NAMES[i]!, g, gpu.grads[i]!, tol(dtype));
  });
  return gpu;
}

/** Largest absolute difference of two equally long arrays. */
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/**
 * compare() with attrs.innerGradClip > 0 (the 'cuda' kernels' clip against the 'cpu' kernel's,
 * cpu/self_mod_clip.h), and the clip acts: the 'cpu' op without it gives another o, other final
 * states and other gradients of x and of the carried states.
 */
export function compareClip(dtype: DT, c: Case, a: FusedSelfModAttrs, seed = 7) {
  expect(a.innerGradClip ?? 0).toBeGreaterThan(0);
  const gpu = compare(dtype, c, a, seed);
  const off = run('cpu', dtype, c, { ...a, innerGradClip: 0 }, data(c, a, seed));
  expect(maxDiff(gpu.o, off.o), 'the clip changes o').toBeGreaterThan(1e-4);
  const most = (xs: (number[] | null)[], ys: (number[] | null)[]) => Math.max(...xs.map((x, i) => (x ? maxDiff(x, ys[i]!) : 0)));
  expect(most(gpu.fin, off.fin), 'the clip changes the final states').toBeGreaterThan(1e-4);
  expect(maxDiff(gpu.grads[0]!, off.grads[0]!), 'the clip changes dx').toBeGreaterThan(1e-5);
  expect(most(gpu.grads.slice(2), off.grads.slice(2)), 'the clip changes the initial-state gradients').toBeGreaterThan(1e-5);
  return gpu;
} // prettier-ignore
