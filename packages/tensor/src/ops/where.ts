/**
 * where(cond, a, b): a where cond != 0, else b; all three broadcast together.
 * Also `cast` (dtype conversion, differentiable between float dtypes).
 */
import type { DType } from '../dtype.js';
import { assertDType, isFloat, promote, scalarDType } from '../dtype.js';
import { Tensor } from '../tensor.js';
import { broadcastShapes, broadcastStrides, collapseDims } from '../shape.js';
import { backendFor } from '../device.js';
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
  const sc = broadcastStrides(cond.shape, cond.strides, shape);
  const sa = broadcastStrides(A.shape, A.strides, shape);
  const sb = broadcastStrides(B.shape, B.strides, shape);
  const col = collapseDims(shape, [sc, sa, sb]);
  const dims = col.shape;
  const [tc, ta, tb] = col.strides;
  const nd = dims.length;
  const o = out.storage.data;
  const cd = cond.storage.data;
  const ad = A.storage.data;
  const bd = B.storage.data;
  const idx = new Array<number>(nd).fill(0);
  let pc = cond.offset;
  let pa = A.offset;
  let pb = B.offset;
  const n = o.length;
  const inner = dims[nd - 1];
  for (let i = 0; i < n; i += inner) {
    for (let j = 0; j < inner; j++)
      o[i + j] = cd[pc + j * tc[nd - 1]] !== 0 ? ad[pa + j * ta[nd - 1]] : bd[pb + j * tb[nd - 1]];
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      pc += tc[d];
      pa += ta[d];
      pb += tb[d];
      if (idx[d] < dims[d]) break;
      pc -= tc[d] * dims[d];
      pa -= ta[d] * dims[d];
      pb -= tb[d] * dims[d];
      idx[d] = 0;
    }
  }
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
  backendFor(x.device).copy(out.storage.data, x.shape, viewOf(x));
  if (isFloat(dtype) && isFloat(x.dtype)) record('cast', [x], [out], { from: x.dtype });
  return out;
}
defineGrad('cast', (c, [g]) => [cast(g!, c.attrs.from)]);
