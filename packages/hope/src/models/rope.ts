/**
 * Rotary position embedding (RoPE, Su et al. 2021), "rotate half" layout as in LLaMA / GPT-NeoX:
 * channel i ∈ [0, D/2) is paired with channel i + D/2 and the pair at position p is rotated by
 * the angle p · base^(−2i/D):
 *
 *   y_i       = x_i cos(pω_i) − x_{i+D/2} sin(pω_i)
 *   y_{i+D/2} = x_{i+D/2} cos(pω_i) + x_i sin(pω_i),        ω_i = base^(−2i/D)
 */
import { cat, narrow, tensor, type Device, type Tensor } from '@nl/tensor';

/** cos and sin tables [T, D/2] for positions start..start+T−1, in `dtype` (computed in float64). */
export function ropeTables(
  start: number,
  t: number,
  headDim: number,
  base: number,
  dtype: 'float32' | 'float64',
  device: Device = 'cpu',
): { cos: Tensor; sin: Tensor } {
  if (headDim % 2 !== 0) throw new RangeError(`RoPE: head dim must be even, got ${headDim}`);
  const half = headDim / 2;
  const Arr = dtype === 'float64' ? Float64Array : Float32Array;
  const cos = new Arr(t * half);
  const sin = new Arr(t * half);
  for (let p = 0; p < t; p++) {
    for (let i = 0; i < half; i++) {
      const angle = (start + p) * Math.pow(base, (-2 * i) / headDim);
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  }
  // built on the host (float64 angles) and uploaded to `device`: host -> device only, no read back
  return { cos: tensor(cos, { shape: [t, half], device }), sin: tensor(sin, { shape: [t, half], device }) };
}

/**
 * Rotates x [B, H, T, D] (positions start..start+T−1 along dim 2) → [B, H, T, D].
 * Differentiable in x.
 */
export function applyRope(x: Tensor, start: number, base = 10000): Tensor {
  const [, , t, d] = x.shape as [number, number, number, number];
  const { cos, sin } = ropeTables(start, t, d, base, x.dtype as 'float32' | 'float64', x.device); // [T, D/2]
  const half = d / 2;
  const x1 = narrow(x, -1, 0, half); // [B, H, T, D/2]
  const x2 = narrow(x, -1, half, half);
  const y1 = x1.mul(cos).sub(x2.mul(sin));
  const y2 = x2.mul(cos).add(x1.mul(sin));
  return cat([y1, y2], -1); // [B, H, T, D]
}
