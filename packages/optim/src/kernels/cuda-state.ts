/**
 * 'cuda' kernels of the optimizers with float64 state the kernel creates: `optim.m3` (moments and
 * slow memory elementwise, Newton–Schulz on the CUDA GEMM in float64) and `optim.dmgd` (the
 * memory MLP's forward, loss and hand-derived gradient as float64 GEMMs plus small elementwise
 * updates). Same arithmetic as m3Update / dmgdUpdate (../m3.ts, ../dmgd.ts), state as tensors of
 * the parameter's device (shape [length], as the CPU kernels adopt theirs).
 */
import { native } from '@nl/native';
import { keep, tensor, zeros, type Tensor } from '@nl/tensor';
import { registerKernel } from '@nl/tensor/internal';
import { dmgdInit, type DMGDOptions } from '../dmgd.js';
import type { M3Options } from '../m3.js';
import type { ParamState } from '../optimizer.js';
import { asMatrix } from '../param.js';
import {
  EW,
  copySpan,
  ew,
  gemm,
  newtonSchulzCuda,
  readAs,
  span,
  sumSquares,
  withScratch,
  type FloatDType,
  type Scratch,
  type Span,
} from './cuda-util.js';
import { OPTIM_KERNELS, type DmgdKernel, type M3Kernel } from './types.js';

const F64 = 1;

/** A float64 zero state tensor of n elements on `p`'s device (survives tidy). */
const zeros64 = (p: Tensor, n: number): Tensor => keep(zeros([n], { dtype: 'float64', device: p.device }));

/** Newton–Schulz of a float64 [rows, cols] matrix in place (matrices only: O = M otherwise). */
function orth(s: Scratch, x: Span, shape: readonly number[], o: M3Options): void {
  if (shape.length < 2) return;
  const { rows, cols } = asMatrix(shape);
  newtonSchulzCuda(s, x, 'float64', 1, rows, cols, o.nsSteps);
}

function m3Step(p: Tensor, g: Tensor, st: ParamState, o: M3Options, s: Scratch): void {
  const n = p.numel;
  if (!st.M1) {
    st.step = 0;
    for (const k of ['M1', 'V', 'M2', 'acc', 'O2']) st[k] = zeros64(p, n);
  }
  const [b1, b2, b3] = o.betas;
  const literal = o.mode === 'literal';
  const t = (st.step as number) + 1;
  st.step = t;
  const [M1, V, M2, acc, O2] = (['M1', 'V', 'M2', 'acc', 'O2'] as const).map((k) => span(st[k] as Tensor));
  const P = span(p);
  const bc1 = literal ? 1 : 1 - b1 ** t;
  const bc2 = literal ? 1 : 1 - b2 ** t;
  const fast = s.alloc('float64', n);
  ew(
    EW.m3Moments,
    P.dt,
    n,
    [readAs(g, p.dtype as FloatDType, s), M1!, V!, acc!, fast],
    [b1, b2, bc1],
    [literal],
  );
  orth(s, fast, p.shape, o);
  const u = s.alloc('float64', n);
  ew(EW.m3Direction, F64, n, [fast, O2!, V!, u], [o.alpha, bc2, o.eps]);
  let ss: Span | null = null;
  if (!literal && p.shape.length >= 2 && o.rmsTarget > 0 && n > 0) {
    ss = s.alloc('float64', 1);
    sumSquares(s, [{ at: u, n }], ss);
  }
  ew(EW.m3Apply, P.dt, n, [P, u], [o.lr, 1 - o.lr * o.weightDecay, o.rmsTarget, n], [], ss);
  // slow memory: refreshed after the step that completes a chunk, used during the next chunk
  if (t % o.frequency === 0) {
    ew(EW.m3Slow, F64, n, [M2!, acc!, O2!], [b3, o.frequency], [literal]);
    orth(s, O2!, p.shape, o);
    st.slowUpdates = ((st.slowUpdates as number | undefined) ?? 0) + 1;
  }
}

const m3Cuda: M3Kernel = (params, grads, states, o) => {
  params.forEach((p, i) => withScratch(p, (s) => m3Step(p, grads[i]!, states[i]!, o, s)));
};

/** Creates DMGD's state on the device on first use (W1 drawn on the host as dmgdInit draws it). */
function dmgdState(p: Tensor, st: ParamState, cols: number, o: DMGDOptions): void {
  if (!st.W1) {
    const host: ParamState = {};
    dmgdInit(host, cols, o);
    const w1 = host.W1 as Float64Array;
    st.W1 = keep(tensor(w1, { shape: [w1.length], device: p.device }));
    st.W2 = zeros64(p, cols * o.hidden);
    st.prevKey = zeros64(p, 0);
    st.step = 0;
  }
  if ((st.W1 as Tensor).numel !== o.hidden * cols)
    throw new RangeError(
      `DMGD: hidden changed from the memory's width; it cannot change after the first step`,
    );
}

/**
 * The memory on keys k [rows, d]: Z = k W1ᵀ, A = tanh Z ([rows, h]); Y = k + A W2ᵀ ([rows, d]).
 * Returns A and Y (scratch).
 */
function memoryForward(s: Scratch, W1: Span, W2: Span, k: Span, rows: number, d: number, h: number) {
  const Z = s.alloc('float64', rows * h);
  const A = s.alloc('float64', rows * h);
  const Y = s.alloc('float64', rows * d);
  gemm(F64, false, true, rows, h, d, 1, k, d, 0, W1, d, 0, 0, Z, h, 0);
  ew(EW.tanh, F64, rows * h, [A, Z]);
  copySpan(Y, k, rows * d);
  gemm(F64, false, true, rows, d, h, 1, A, h, 0, W2, h, 0, 1, Y, d, 0);
  return { A, Y };
}

function dmgdStep(p: Tensor, g: Tensor, st: ParamState, loss: Span, o: DMGDOptions, s: Scratch): void {
  const { rows, cols: d } = asMatrix(p.shape);
  const h = o.hidden;
  const n = p.numel;
  dmgdState(p, st, d, o);
  const W1 = span(st.W1 as Tensor);
  const W2 = span(st.W2 as Tensor);
  const G = readAs(g, p.dtype as FloatDType, s);
  const ss = s.alloc('float64', 1);
  sumSquares(s, [{ at: G, n }], ss);
  const curT = zeros64(p, n);
  const cur = span(curT);
  ew(EW.dmgdKey, G.dt, n, [G, cur], [n], [], ss);
  const prevT = st.prevKey as Tensor;
  if (prevT.numel === n && n === 0) {
    native.cudaFill(loss.ptr, F64, loss.off, 1, 0); // an empty parameter: the CPU's loss is 0
  } else if (prevT.numel === n) {
    // inner step on (key prev, value cur): E = M(prev) − cur, loss = Σ E²/(2r)
    const prev = span(prevT);
    const { A, Y: E } = memoryForward(s, W1, W2, prev, rows, d, h);
    ew(EW.sub, F64, n, [E, cur]);
    sumSquares(s, [{ at: E, n }], loss, false, 0.5 / rows);
    const gW2 = s.alloc('float64', d * h);
    const DA = s.alloc('float64', rows * h);
    const gW1 = s.alloc('float64', h * d);
    gemm(F64, true, false, d, h, rows, 1 / rows, E, d, 0, A, h, 0, 0, gW2, h, 0); // gW2 = Eᵀ A / r
    gemm(F64, false, false, rows, h, d, 1, E, d, 0, W2, h, 0, 0, DA, h, 0); // DA = E W2
    ew(EW.tanhBackward, F64, rows * h, [DA, A], [1 / rows]); // DZ = DA ⊙ (1 − A²) / r
    gemm(F64, true, false, h, d, rows, 1, DA, h, 0, prev, d, 0, 0, gW1, d, 0); // gW1 = DZᵀ prev
    ew(EW.axpby, F64, h * d, [W1, gW1], [o.memoryDecay, -o.innerLr]);
    ew(EW.axpby, F64, d * h, [W2, gW2], [o.memoryDecay, -o.innerLr]);
  } else {
    native.cudaFill(loss.ptr, F64, loss.off, 1, NaN);
  }
  const { Y: out } = memoryForward(s, W1, W2, cur, rows, d, h);
  const P = span(p);
  ew(EW.dmgdApply, P.dt, n, [P, out], [n, o.lr, 1 - o.lr * o.weightDecay], [], ss);
  prevT.dispose();
  st.prevKey = curT;
  st.step = (st.step as number) + 1;
}

const dmgdCuda: DmgdKernel = (params, grads, states, innerLoss, o) => {
  const L = span(innerLoss);
  params.forEach((p, i) =>
    withScratch(p, (s) => dmgdStep(p, grads[i]!, states[i]!, { ...L, off: L.off + i }, o, s)),
  );
};

registerKernel(OPTIM_KERNELS.m3, 'cuda', m3Cuda);
registerKernel(OPTIM_KERNELS.dmgd, 'cuda', dmgdCuda);
