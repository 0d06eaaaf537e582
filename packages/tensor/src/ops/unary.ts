/**
 * Unary elementwise ops: neg abs exp log sqrt rsqrt sin cos tanh sigmoid relu gelu silu softplus
 * clamp square reciprocal log1p expm1 (+ sign floor ceil round, not differentiable). Shape and
 * dtype are kept, except that int32 inputs of float-valued functions give float32.
 */
import type { DType } from '../dtype.js';
import { Tensor } from '../tensor.js';
import { runKernel } from '../device.js';
import type { UnaryKernel } from '../backends/cpu-kernels.js';
import { record } from '../autograd/tape.js';
import { defineGrad } from '../autograd/grad-table.js';
import { checkOperands, empty_, viewOf } from './helpers.js';
import { add, mul, sub, div } from './binary.js';

const KEEP_INT = new Set(['neg', 'abs', 'relu', 'clamp', 'square', 'sign', 'floor', 'ceil', 'round']);

/** Runs a unary kernel without recording. */
export function unaryRaw(op: string, x: Tensor, p0 = 0, p1 = 0, outDtype?: DType): Tensor {
  const dtype = outDtype ?? (x.dtype === 'int32' && !KEEP_INT.has(op) ? 'float32' : x.dtype);
  const out = empty_(x.shape, dtype, x.device, false);
  runKernel<UnaryKernel>('unary', x.device, op, out.storage.buffer, x.shape, viewOf(x), p0, p1);
  return out;
}

function unary(op: string, x: Tensor, attrs: Record<string, any> = {}, p0 = 0, p1 = 0): Tensor {
  checkOperands(op, x);
  const out = unaryRaw(op, x, p0, p1);
  record(op, [x], [out], attrs);
  return out;
}

/** -x */
export const neg = (x: Tensor): Tensor => unary('neg', x);
/** |x| (gradient 0 at 0) */
export const abs = (x: Tensor): Tensor => unary('abs', x);
/** e^x */
export const exp = (x: Tensor): Tensor => unary('exp', x);
/** natural log */
export const log = (x: Tensor): Tensor => unary('log', x);
/** square root */
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
/** 1 / sqrt(x) */
export const rsqrt = (x: Tensor): Tensor => unary('rsqrt', x);
/** sine */
export const sin = (x: Tensor): Tensor => unary('sin', x);
/** cosine */
export const cos = (x: Tensor): Tensor => unary('cos', x);
/** hyperbolic tangent */
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
/** 1 / (1 + e^-x) */
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
/** max(x, 0) */
export const relu = (x: Tensor): Tensor => unary('relu', x);
/** x * sigmoid(x) */
export const silu = (x: Tensor): Tensor => unary('silu', x);
/** log(1 + e^x) (linear above 20) */
export const softplus = (x: Tensor): Tensor => unary('softplus', x);
/** x^2 */
export const square = (x: Tensor): Tensor => unary('square', x);
/** 1 / x */
export const reciprocal = (x: Tensor): Tensor => unary('reciprocal', x);
/** log(1 + x) */
export const log1p = (x: Tensor): Tensor => unary('log1p', x);
/** e^x - 1 */
export const expm1 = (x: Tensor): Tensor => unary('expm1', x);
/** -1, 0 or 1 (not differentiable) */
export const sign = (x: Tensor): Tensor => unaryRaw('sign', (checkOperands('sign', x), x));
/** floor (not differentiable) */
export const floor = (x: Tensor): Tensor => unaryRaw('floor', (checkOperands('floor', x), x));
/** ceil (not differentiable) */
export const ceil = (x: Tensor): Tensor => unaryRaw('ceil', (checkOperands('ceil', x), x));
/** round half up (not differentiable) */
export const round = (x: Tensor): Tensor => unaryRaw('round', (checkOperands('round', x), x));

/**
 * GELU. `approximate: 'none'` (default) is exact x * Phi(x); 'tanh' is the tanh approximation.
 */
export function gelu(x: Tensor, opts: { approximate?: 'none' | 'tanh' } = {}): Tensor {
  return unary(opts.approximate === 'tanh' ? 'geluTanh' : 'gelu', x);
}

/** Clamps into [min, max] (either bound may be omitted). Gradient 1 inside, 0 outside. */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  const lo = min ?? -Infinity;
  const hi = max ?? Infinity;
  if (lo > hi) throw new RangeError(`clamp: min ${lo} is larger than max ${hi}`);
  return unary('clamp', x, { min: lo, max: hi }, lo, hi);
}

// ---- backward rules ------------------------------------------------------------------------

const x0 = (c: { inputs: readonly Tensor[] }) => c.inputs[0];
const y0 = (c: { outputs: readonly Tensor[] }) => c.outputs[0];
defineGrad('neg', (_c, [g]) => [neg(g!)]);
defineGrad('abs', (c, [g]) => [mul(g!, unaryRaw('sign', x0(c)))]);
defineGrad('exp', (c, [g]) => [mul(g!, y0(c))]);
defineGrad('log', (c, [g]) => [div(g!, x0(c))]);
defineGrad('sqrt', (c, [g]) => [div(mul(g!, 0.5), y0(c))]);
defineGrad('rsqrt', (c, [g]) => {
  const y = y0(c);
  return [mul(mul(g!, -0.5), mul(y, mul(y, y)))];
});
defineGrad('sin', (c, [g]) => [mul(g!, cos(x0(c)))]);
defineGrad('cos', (c, [g]) => [neg(mul(g!, sin(x0(c))))]);
defineGrad('tanh', (c, [g]) => [mul(g!, sub(1, square(y0(c))))]);
defineGrad('sigmoid', (c, [g]) => {
  const y = y0(c);
  return [mul(g!, mul(y, sub(1, y)))];
});
defineGrad('relu', (c, [g]) => [mul(g!, unaryRaw('reluMask', x0(c)))]);
defineGrad('gelu', (c, [g]) => [mul(g!, unaryRaw('geluDeriv', x0(c)))]);
defineGrad('geluTanh', (c, [g]) => [mul(g!, unaryRaw('geluTanhDeriv', x0(c)))]);
defineGrad('silu', (c, [g]) => [mul(g!, unaryRaw('siluDeriv', x0(c)))]);
defineGrad('softplus', (c, [g]) => [mul(g!, sigmoid(x0(c)))]);
defineGrad('clamp', (c, [g]) => [mul(g!, unaryRaw('clampMask', x0(c), c.attrs.min, c.attrs.max))]);
defineGrad('square', (c, [g]) => [mul(g!, mul(x0(c), 2))]);
defineGrad('reciprocal', (c, [g]) => [neg(mul(g!, square(y0(c))))]);
defineGrad('log1p', (c, [g]) => [div(g!, add(x0(c), 1))]);
defineGrad('expm1', (c, [g]) => [mul(g!, add(y0(c), 1))]);
