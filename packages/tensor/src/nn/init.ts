/**
 * Parameter initialisers, in place (trailing underscore, as in torch.nn.init), drawing from the
 * core's seedable generator (`manualSeed(n)` makes them reproducible). Each writes the tensor's
 * live view without recording autograd, and returns the tensor.
 *
 * Fans follow PyTorch: for a weight [out, in, ...k], fanIn = in * prod(k), fanOut = out * prod(k);
 * a 1-D tensor has fanIn = fanOut = its length.
 */
import { copy_, fill_, noGrad, rand, randn, tensor, type Tensor } from './core.js';

/** Gains of `calculateGain` (PyTorch's table). */
export type Nonlinearity = 'linear' | 'sigmoid' | 'tanh' | 'relu' | 'leakyRelu' | 'selu';

/** Fan-in and fan-out of a weight shape, as PyTorch computes them. */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) throw new Error('init: fans need a tensor with at least 1 dim, got a scalar');
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/** Recommended gain for a nonlinearity (leakyRelu uses `param` as its negative slope, default 0.01). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leakyRelu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new Error(`calculateGain: unknown nonlinearity ${JSON.stringify(nonlinearity)}`);
  }
}

/** Writes host-drawn values into `t` on its device (one upload off the CPU). */
function fill(t: Tensor, values: (n: number) => Float64Array): Tensor {
  noGrad(() => {
    const src = tensor(values(t.numel), { dtype: 'float64', shape: t.shape, device: t.device });
    copy_(t, src);
    src.dispose();
  });
  return t;
}

/** Fills with N(mean, std^2) draws. */
export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  if (!(std >= 0)) throw new RangeError(`normal_: std must be >= 0, got ${std}`);
  return fill(t, () => {
    const z = randn(t.shape, { dtype: 'float64' });
    const v = Float64Array.from(z.dataSync() as Float64Array, (x) => mean + std * x);
    z.dispose();
    return v;
  });
}

/** Fills with U(a, b) draws. */
export function uniform_(t: Tensor, a = 0, b = 1): Tensor {
  if (!(b >= a)) throw new RangeError(`uniform_: need a <= b, got a=${a}, b=${b}`);
  return fill(t, () => {
    const u = rand(t.shape, { dtype: 'float64' });
    const v = Float64Array.from(u.dataSync() as Float64Array, (x) => a + (b - a) * x);
    u.dispose();
    return v;
  });
}

/** Fills with a constant. */
export function constant_(t: Tensor, value: number): Tensor {
  noGrad(() => fill_(t, value));
  return t;
}

/** Fills with zeros. */
export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

/** Fills with ones. */
export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/** Glorot uniform: U(-b, b), b = gain * sqrt(6 / (fanIn + fanOut)). */
export function xavierUniform_(t: Tensor, gain = 1): Tensor {
  const { fanIn, fanOut } = fans(t.shape);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -bound, bound);
}

/** Glorot normal: N(0, s^2), s = gain * sqrt(2 / (fanIn + fanOut)). */
export function xavierNormal_(t: Tensor, gain = 1): Tensor {
  const { fanIn, fanOut } = fans(t.shape);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)));
}

/** Options of the Kaiming (He) initialisers. */
export interface KaimingOptions {
  /** Negative slope for leakyRelu (default 0). */
  a?: number;
  /** Preserve the variance of the forward ('fanIn', default) or backward ('fanOut') pass. */
  mode?: 'fanIn' | 'fanOut';
  /** Default 'leakyRelu' (with `a`), as PyTorch. */
  nonlinearity?: Nonlinearity;
}

function kaimingStd(t: Tensor, o: KaimingOptions): number {
  const f = fans(t.shape);
  const fan = (o.mode ?? 'fanIn') === 'fanIn' ? f.fanIn : f.fanOut;
  return calculateGain(o.nonlinearity ?? 'leakyRelu', o.a ?? 0) / Math.sqrt(fan);
}

/** He uniform: U(-b, b), b = gain * sqrt(3 / fan). */
export function kaimingUniform_(t: Tensor, options: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, options);
  return uniform_(t, -bound, bound);
}

/** He normal: N(0, (gain / sqrt(fan))^2). */
export function kaimingNormal_(t: Tensor, options: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd(t, options));
}

export { xavierUniform_ as xavierUniform, kaimingUniform_ as kaimingUniform };
