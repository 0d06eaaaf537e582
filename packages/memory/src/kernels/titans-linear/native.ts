/**
 * Titans linear memory — the fused native chunk kernels (closed form inside each mini-batch chunk;
 * backward with chunk-boundary recompute), typed over Float32Array or Float64Array. Mini-batch
 * semantics: `chunkSize` changes the result and must match the reference's. Maths in types.ts.
 */
import { native } from '@nl/native';
import { allocLike } from '../alloc.js';
import { checkSameDtype, type FloatArray } from '../shape.js';
import {
  checkTitansGradOutputs,
  checkTitansInputs,
  titansOptions,
  type TitansLinearGradOutputs,
  type TitansLinearGrads,
  type TitansLinearInputs,
  type TitansLinearOptions,
  type TitansLinearOutputs,
} from './types.js';

/**
 * Fused Titans linear-memory forward on the CPU (threaded over batch × heads).
 *
 * @param x q, k [B, T, H, Dk]; v [B, T, H, Dv]; theta, eta, alpha [B, T, H]; optional m0, s0 [B, H, Dv, Dk]
 * @param opts chunkSize (default 64), readAfterWrite (default true)
 * @returns o [B, T, H, Dv], final memory m and momentum s [B, H, Dv, Dk], in the inputs' dtype
 * @example
 *   const { o, m, s } = titansLinearForward({ q, k, v, theta, eta, alpha, shape }, { chunkSize: 16 });
 */
export function titansLinearForward<A extends FloatArray>(
  x: TitansLinearInputs<A>,
  opts: TitansLinearOptions = {},
): TitansLinearOutputs<A> {
  const op = 'titansLinearForward';
  const { chunkSize, readAfterWrite } = titansOptions(op, opts);
  checkTitansInputs(op, x);
  checkSameDtype(op, {
    q: x.q,
    k: x.k,
    v: x.v,
    theta: x.theta,
    eta: x.eta,
    alpha: x.alpha,
    m0: x.m0,
    s0: x.s0,
  });
  const { batch: B, seqLen: T, heads: H, dk, dv } = x.shape;
  const o = allocLike(x.q, B * T * H * dv);
  const m = allocLike(x.q, B * H * dv * dk);
  const s = allocLike(x.q, B * H * dv * dk);
  native.titansLinearForward(
    { q: x.q, k: x.k, v: x.v, theta: x.theta, eta: x.eta, alpha: x.alpha, m0: x.m0 ?? null, s0: x.s0 ?? null, o, mOut: m, sOut: s },
    { batch: B, seqLen: T, heads: H, dk, dv, chunkSize, readAfterWrite },
  ); // prettier-ignore
  return { o, m, s };
}

/**
 * Fused Titans linear-memory backward: gradients of q, k, v, θ, η, α, M0 and S0.
 *
 * @param x the forward inputs; @param g dO [B, T, H, Dv], optional dM, dS [B, H, Dv, Dk]
 * @param opts the forward's chunkSize and readAfterWrite
 * @returns dq, dk [B, T, H, Dk]; dv [B, T, H, Dv]; dTheta, dEta, dAlpha [B, T, H]; dM0, dS0 [B, H, Dv, Dk]
 */
export function titansLinearBackward<A extends FloatArray>(
  x: TitansLinearInputs<A>,
  g: TitansLinearGradOutputs<A>,
  opts: TitansLinearOptions = {},
): TitansLinearGrads<A> {
  const op = 'titansLinearBackward';
  const { chunkSize, readAfterWrite } = titansOptions(op, opts);
  checkTitansInputs(op, x);
  checkTitansGradOutputs(op, x.shape, g);
  checkSameDtype(op, {
    q: x.q, k: x.k, v: x.v, theta: x.theta, eta: x.eta, alpha: x.alpha, m0: x.m0, s0: x.s0,
    dO: g.dO, dM: g.dM, dS: g.dS,
  }); // prettier-ignore
  const { batch: B, seqLen: T, heads: H, dk, dv } = x.shape;
  const rows = B * T * H;
  const out: TitansLinearGrads<A> = {
    dq: allocLike(x.q, rows * dk),
    dk: allocLike(x.q, rows * dk),
    dv: allocLike(x.q, rows * dv),
    dTheta: allocLike(x.q, rows),
    dEta: allocLike(x.q, rows),
    dAlpha: allocLike(x.q, rows),
    dM0: allocLike(x.q, B * H * dv * dk),
    dS0: allocLike(x.q, B * H * dv * dk),
  };
  native.titansLinearBackward(
    { q: x.q, k: x.k, v: x.v, theta: x.theta, eta: x.eta, alpha: x.alpha, m0: x.m0 ?? null, s0: x.s0 ?? null,
      dO: g.dO, dM: g.dM ?? null, dS: g.dS ?? null, ...out },
    { batch: B, seqLen: T, heads: H, dk, dv, chunkSize, readAfterWrite },
  ); // prettier-ignore
  return out;
}
