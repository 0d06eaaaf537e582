/**
 * softmax and logSoftmax along a dim (default -1), computed stably (max subtracted) in float64
 * per row. Shapes are kept. Backward: softmax y*(g - sum(g*y)); logSoftmax g - exp(y)*sum(g).
 */
import { Tensor } from '../tensor.js';
import { normDim } from '../shape.js';
import { record } from '../autograd/tape.js';
import { defineGrad } from '../autograd/grad-table.js';
import { runKernel } from '../device.js';
import type { SoftmaxKernel } from '../kernels/scan-kernels.js';
import { checkOperands, empty_ } from './helpers.js';
import { contiguousRaw } from './shape-ops.js';
import { mul, sub } from './binary.js';
import { exp } from './unary.js';
import { reduceRaw } from './reduce.js';

function softmaxRaw(x: Tensor, dim: number, log: boolean): Tensor {
  const src = x.isContiguous ? x : contiguousRaw(x);
  const out = empty_(x.shape, x.dtype === 'int32' ? 'float32' : x.dtype, x.device, false);
  runKernel<SoftmaxKernel>('softmax', x.device, out, src, dim, log);
  if (src !== x) src.dispose();
  return out;
}

/** exp(x) / sum(exp(x)) along `dim` (default -1). */
export function softmax(x: Tensor, dim = -1): Tensor {
  checkOperands('softmax', x);
  const d = normDim(dim, x.ndim, 'softmax');
  const out = softmaxRaw(x, d, false);
  record('softmax', [x], [out], { dim: d });
  return out;
}

/** x - logsumexp(x) along `dim` (default -1). */
export function logSoftmax(x: Tensor, dim = -1): Tensor {
  checkOperands('logSoftmax', x);
  const d = normDim(dim, x.ndim, 'logSoftmax');
  const out = softmaxRaw(x, d, true);
  record('logSoftmax', [x], [out], { dim: d });
  return out;
}

defineGrad('softmax', (c, [g]) => {
  const y = c.outputs[0];
  const dims = c.inputs[0].ndim === 0 ? [] : [c.attrs.dim];
  const gy = mul(g!, y);
  return [mul(y, sub(g!, reduceRaw('sum', gy, dims, true)))];
});
defineGrad('logSoftmax', (c, [g]) => {
  const y = c.outputs[0];
  const dims = c.inputs[0].ndim === 0 ? [] : [c.attrs.dim];
  return [sub(g!, mul(exp(y), reduceRaw('sum', g!, dims, true)))];
});
