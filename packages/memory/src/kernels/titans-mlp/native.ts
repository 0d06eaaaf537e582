/**
 * Titans MLP memory — the fused native kernels (version 1: token-level C++ loops inside mini-batch
 * chunks; backward recomputes from chunk-boundary states). Same maths and options as ref.ts;
 * Float32Array or Float64Array, one dtype per call.
 */
import { native } from '@nl/native';
import { allocLike } from '../alloc.js';
import { checkArray, checkSameDtype, type FloatArray } from '../shape.js';
import { checkTitansMlp, type TitansMlpInputs, type TitansMlpOptions } from './ref.js';

/** Forward results in the inputs' dtype: o [B, T, H, D]; final w1, s1 [B, H, D, Dh]; w2, s2 [B, H, Dh, D]. */
export interface TitansMlpResult<A extends FloatArray> {
  o: A;
  w1: A;
  w2: A;
  s1: A;
  s2: A;
}

/** Gradients in the inputs' dtype (dW1.. are with respect to the initial weights and momenta). */
export interface TitansMlpNativeGrads<A extends FloatArray> {
  dq: A;
  dk: A;
  dv: A;
  dTheta: A;
  dEta: A;
  dAlpha: A;
  dW1: A;
  dW2: A;
  dS1: A;
  dS2: A;
}

/**
 * Fused Titans MLP-memory forward (threaded over batch × heads).
 *
 * @param x see {@link TitansMlpInputs}; @param opts chunkSize (default 64), readAfterWrite (default true)
 */
export function titansMlpForward<A extends FloatArray>(
  x: TitansMlpInputs<A>,
  opts: TitansMlpOptions = {},
): TitansMlpResult<A> {
  const op = 'titansMlpForward';
  const { chunkSize, readAfterWrite } = checkTitansMlp(op, x, opts);
  checkSameDtype(op, {
    q: x.q,
    k: x.k,
    v: x.v,
    theta: x.theta,
    eta: x.eta,
    alpha: x.alpha,
    w1: x.w1,
    w2: x.w2,
    s1: x.s1,
    s2: x.s2,
  });
  const { batch: B, seqLen: T, heads: H, dk: D } = x.shape;
  const n = B * H * D * x.hidden;
  const y: TitansMlpResult<A> = {
    o: allocLike(x.q, B * T * H * D),
    w1: allocLike(x.q, n),
    w2: allocLike(x.q, n),
    s1: allocLike(x.q, n),
    s2: allocLike(x.q, n),
  };
  native.titansMlpForward(
    { q: x.q, k: x.k, v: x.v, theta: x.theta, eta: x.eta, alpha: x.alpha, w1: x.w1, w2: x.w2, s1: x.s1 ?? null, s2: x.s2 ?? null,
      o: y.o, w1Out: y.w1, w2Out: y.w2, s1Out: y.s1, s2Out: y.s2 },
    { batch: B, seqLen: T, heads: H, d: D, hidden: x.hidden, chunkSize, readAfterWrite },
  ); // prettier-ignore
  return y;
}

/**
 * Fused Titans MLP-memory backward: gradients of q, k, v, θ, η, α and the initial w1, w2, s1, s2.
 *
 * @param x the forward inputs; @param g dO [B, T, H, D] and optional gradients of the final states
 * @param opts as the forward
 */
export function titansMlpBackward<A extends FloatArray>(
  x: TitansMlpInputs<A>,
  g: { dO: A; dW1?: A; dW2?: A; dS1?: A; dS2?: A },
  opts: TitansMlpOptions = {},
): TitansMlpNativeGrads<A> {
  const op = 'titansMlpBackward';
  const { chunkSize, readAfterWrite } = checkTitansMlp(op, x, opts);
  const { batch: B, seqLen: T, heads: H, dk: D } = x.shape;
  const Dh = x.hidden;
  checkArray(op, 'dO', g.dO, [B, T, H, D]);
  if (g.dW1) checkArray(op, 'dW1', g.dW1, [B, H, D, Dh]);
  if (g.dW2) checkArray(op, 'dW2', g.dW2, [B, H, Dh, D]);
  if (g.dS1) checkArray(op, 'dS1', g.dS1, [B, H, D, Dh]);
  if (g.dS2) checkArray(op, 'dS2', g.dS2, [B, H, Dh, D]);
  checkSameDtype(op, { q: x.q, k: x.k, v: x.v, theta: x.theta, eta: x.eta, alpha: x.alpha, w1: x.w1, w2: x.w2, s1: x.s1, s2: x.s2, dO: g.dO, dW1: g.dW1, dW2: g.dW2, dS1: g.dS1, dS2: g.dS2 }); // prettier-ignore
  const rows = B * T * H,
    n = B * H * D * Dh;
  const out: TitansMlpNativeGrads<A> = {
    dq: allocLike(x.q, rows * D),
    dk: allocLike(x.q, rows * D),
    dv: allocLike(x.q, rows * D),
    dTheta: allocLike(x.q, rows),
    dEta: allocLike(x.q, rows),
    dAlpha: allocLike(x.q, rows),
    dW1: allocLike(x.q, n),
    dW2: allocLike(x.q, n),
    dS1: allocLike(x.q, n),
    dS2: allocLike(x.q, n),
  };
  native.titansMlpBackward(
    { q: x.q, k: x.k, v: x.v, theta: x.theta, eta: x.eta, alpha: x.alpha, w1: x.w1, w2: x.w2, s1: x.s1 ?? null, s2: x.s2 ?? null,
      dO: g.dO, dW1: g.dW1 ?? null, dW2: g.dW2 ?? null, dS1: g.dS1 ?? null, dS2: g.dS2 ?? null,
      dq: out.dq, dk: out.dk, dv: out.dv, dTheta: out.dTheta, dEta: out.dEta, dAlpha: out.dAlpha,
      dW1Out: out.dW1, dW2Out: out.dW2, dS1Out: out.dS1, dS2Out: out.dS2 },
    { batch: B, seqLen: T, heads: H, d: D, hidden: Dh, chunkSize, readAfterWrite },
  ); // prettier-ignore
  return out;
}
