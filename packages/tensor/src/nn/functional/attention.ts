/**
 * Scaled dot-product attention, composed from core ops (matmul, softmax), so autograd runs
 * through it:  out = softmax(q k^T * scale + mask) v,  mask = -inf where key j is in the future of
 * query i (causal, queries aligned to the end of the keys when S > T).
 *
 * Shapes: q [..., T, Dk], k [..., S, Dk], v [..., S, Dv] -> [..., T, Dv] (leading dims
 * broadcast, e.g. [B, H]). Materialises the [..., T, S] score matrix.
 */
import { full, type Tensor } from '../core.js';
import type { Device } from '../../device.js';
import { triu } from '../../ops/scan.js';
import { checkFloat, fmt } from './util.js';

/** Options of `scaledDotProductAttention`. */
export interface AttentionOptions {
  /** Mask keys after each query (default false). */
  causal?: boolean;
  /** Score scale (default 1/sqrt(Dk)). */
  scale?: number;
}

/** [t, s]: -inf where key j is after query i (j > i + s - t), 0 elsewhere; built on `device`. */
function causalMask(t: number, s: number, dtype: 'float32' | 'float64', device: Device): Tensor {
  const inf = full([t, s], -Infinity, { dtype, device });
  const mask = triu(inf, s - t + 1); // query i sees keys j <= i + (s - t)
  inf.dispose();
  return mask;
}

/**
 * Attention weights applied to values.
 * @param q - [..., T, Dk] queries
 * @param k - [..., S, Dk] keys
 * @param v - [..., S, Dv] values
 * @returns [..., T, Dv]
 * @example
 * const o = scaledDotProductAttention(q, k, v, { causal: true }); // q, k, v [B, H, T, D]
 */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: AttentionOptions = {},
): Tensor {
  const op = 'scaledDotProductAttention';
  for (const [name, t] of [
    ['q', q],
    ['k', k],
    ['v', v],
  ] as const) {
    checkFloat(op, name, t);
    if (t.shape.length < 2) throw new RangeError(`${op}: ${name} must be [..., L, D], got ${fmt(t.shape)}`);
  }
  const [t, dk] = q.shape.slice(-2);
  const [s, dk2] = k.shape.slice(-2);
  if (dk !== dk2)
    throw new RangeError(`${op}: q ${fmt(q.shape)} and k ${fmt(k.shape)} differ in the last dim`);
  if (v.shape[v.shape.length - 2] !== s) {
    throw new RangeError(`${op}: v ${fmt(v.shape)} must have S = ${s} rows like k ${fmt(k.shape)}`);
  }
  if (q.dtype !== k.dtype || q.dtype !== v.dtype) {
    throw new TypeError(`${op}: q, k and v must share a dtype, got ${q.dtype}, ${k.dtype}, ${v.dtype}`);
  }
  const scale = options.scale ?? 1 / Math.sqrt(dk);
  if (typeof scale !== 'number' || !Number.isFinite(scale)) {
    throw new RangeError(`${op}: scale must be a finite number, got ${String(scale)}`);
  }
  if (options.causal && s < t) {
    throw new RangeError(`${op}: causal attention needs at least as many keys (${s}) as queries (${t})`);
  }
  // Temporaries are disposed here; the autograd graph keeps what backward needs.
  const temps: Tensor[] = [];
  const keepT = (x: Tensor): Tensor => (temps.push(x), x);
  try {
    const kt = keepT(k.transpose(-2, -1)); // [..., Dk, S]
    let scores = keepT(keepT(q.matmul(kt)).mul(scale)); // [..., T, S]
    if (options.causal)
      scores = keepT(scores.add(keepT(causalMask(t, s, q.dtype as 'float32' | 'float64', q.device))));
    const att = keepT(scores.softmax(-1));
    return att.matmul(v);
  } finally {
    for (const x of temps) x.dispose();
  }
}
