/**
 * Scalar expressions of the elementwise ops, for the JS kernels that `new Function` generates
 * (src/kernels/elementwise.ts). `x`, `y` are operand values, `p0`, `p1` scalar parameters, `H`
 * the helpers in math.ts. The op names are the keys backends dispatch on.
 */

/** Binary ops: add sub mul div pow maximum minimum and comparisons (0/1 results). */
export const BINARY_EXPR: Record<string, string> = {
  add: 'x + y',
  sub: 'x - y',
  mul: 'x * y',
  div: 'x / y',
  pow: 'Math.pow(x, y)',
  maximum: '(x > y || x !== x) ? x : y',
  minimum: '(x < y || x !== x) ? x : y',
  eq: 'x === y ? 1 : 0',
  ne: 'x !== y ? 1 : 0',
  lt: 'x < y ? 1 : 0',
  le: 'x <= y ? 1 : 0',
  gt: 'x > y ? 1 : 0',
  ge: 'x >= y ? 1 : 0',
};

/** Unary ops, including the derivative helpers backward rules use (reluMask, geluDeriv, ...). */
export const UNARY_EXPR: Record<string, string> = {
  neg: '-x',
  abs: 'Math.abs(x)',
  exp: 'Math.exp(x)',
  log: 'Math.log(x)',
  sqrt: 'Math.sqrt(x)',
  rsqrt: '1 / Math.sqrt(x)',
  sin: 'Math.sin(x)',
  cos: 'Math.cos(x)',
  tanh: 'Math.tanh(x)',
  sigmoid: '1 / (1 + Math.exp(-x))',
  relu: 'x < 0 ? 0 : x',
  gelu: 'H.gelu(x)',
  geluTanh: '0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)))',
  silu: 'x / (1 + Math.exp(-x))',
  softplus: 'x > 20 ? x : Math.log1p(Math.exp(x))',
  clamp: 'x < p0 ? p0 : (x > p1 ? p1 : x)',
  square: 'x * x',
  reciprocal: '1 / x',
  log1p: 'Math.log1p(x)',
  expm1: 'Math.expm1(x)',
  sign: 'x > 0 ? 1 : (x < 0 ? -1 : 0)',
  floor: 'Math.floor(x)',
  ceil: 'Math.ceil(x)',
  round: 'Math.round(x)',
  // derivative helpers used by backward rules
  reluMask: 'x > 0 ? 1 : 0',
  geluDeriv: 'H.geluDeriv(x)',
  geluTanhDeriv:
    '(() => { const u = 0.7978845608028654 * (x + 0.044715 * x * x * x); const t = Math.tanh(u); return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * 0.7978845608028654 * (1 + 3 * 0.044715 * x * x); })()',
  siluDeriv: '(() => { const s = 1 / (1 + Math.exp(-x)); return s * (1 + x * (1 - s)); })()',
  clampMask: 'x >= p0 && x <= p1 ? 1 : 0',
};
