/**
 * where(cond, a, b): a where cond != 0, else b; all three broadcast together.
 * Also `cast` (dtype conversion, differentiable between float dtypes).
 */
import type { DType } from '../dtype.js';
import { assertDType, isFloat, promote, scalarDType } from '../dtype.js';
import { Tensor } from '../tensor.js';
import { broadcastShapes } from '../shape.js';
import { runKernel } from '../device.js';
import type { CopyKernel } from '../backends/cpu-kernels.js';
import type { WhereKernel } from '../kernels/select-kernels.js';
import { record } from '../autograd/tape.js';
import { defineGrad } from '../autograd/grad-table.js';
import { checkOperands, empty_, scalarOperand, viewOf, type TensorOrNumber } from './helpers.js';
import { sumToShape } from './reduce.js';

/** Selects from a or b by cond (non-zero = a); shapes broadcast. Differentiable in a and b. */
export function where(cond: Tensor, a: TensorOrNumber, b: TensorOrNumber): Tensor {
  checkOperands('where', cond);
  const ref = typeof a !== 'number' ? a : typeof b !== 'number' ? b : null;
  const dt: DType = ref?.dtype ?? 'float32';
  const A = typeof a === 'number' ? scalarOperand(a, scalarDType(a, dt), cond.device) : a;
  const B = typeof b === 'number' ? scalarOperand(b, scalarDType(b, dt), cond.device) : b;
  checkOperands('where', cond, A, B);
  const shape = broadcastShapes(broadcastShapes(cond.shape, A.shape, 'where'), B.shape, 'where');
  const out = empty_(shape, promote(A.dtype, B.dtype), cond.device, false);
  runKernel<WhereKernel>('where', cond.device, out, cond, A, B);
  record('where', [A, B], [out], {}, [cond]);
  return out;
}

defineGrad('where', (c, [g]) => {
  const [a, b] = c.inputs;
  const cond = c.saved[0];
  return [
    c.needsInputGrad[0] ? sumToShape(where(cond, g!, 0), a.shape) : null,
    c.needsInputGrad[1] ? sumToShape(where(cond, 0, g!), b.shape) : null,
  ];
});

/** Converts to `dtype` (a copy; `x` itself when the dtype already matches). */
export function cast(x: Tensor, dtype: DType): Tensor {
  checkOperands('to', x);
  assertDType(dtype, 'to');
  if (x.dtype === dtype) return x;
  const out = empty_(x.shape, dtype, x.device, false);
  runKernel<CopyKernel>('copy', x.device, out.storage.buffer, x.shape, viewOf(x));
  if (isFloat(dtype) && isFloat(x.dtype)) record('cast', [x], [out], { from: x.dtype });
  return out;
}
defineGrad('cast', (c, [g]) => [cast(g!, c.attrs.from)]);
