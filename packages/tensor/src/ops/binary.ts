/**
 * Broadcasting binary ops: add sub mul div pow maximum minimum, and comparisons eq ne lt le gt ge
 * (int32 0/1 results, not differentiable). Numbers are accepted on either side.
 * Shapes: a [...A], b [...B] -> broadcast(A, B). Dtype: promoted (float64 > float32 > int32);
 * int32 / int32 divides as float32.
 */
import type { DType } from '../dtype.js';
import { promote } from '../dtype.js';
import { Tensor } from '../tensor.js';
import { broadcastShapes } from '../shape.js';
import { runKernel } from '../device.js';
import type { BinaryKernel } from '../backends/cpu-kernels.js';
import { record } from '../autograd/tape.js';
import { defineGrad } from '../autograd/grad-table.js';
import { empty_, operands, viewOf, type TensorOrNumber } from './helpers.js';
import { sumToShape } from './reduce.js';
import { neg, square, log } from './unary.js';
import { where } from './where.js';

/** Runs a binary kernel without recording. */
export function binaryRaw(op: string, a: Tensor, b: Tensor, outDtype?: DType): Tensor {
  const shape = broadcastShapes(a.shape, b.shape, op);
  const dtype =
    outDtype ??
    (op === 'div' && a.dtype === 'int32' && b.dtype === 'int32' ? 'float32' : promote(a.dtype, b.dtype));
  const out = empty_(shape, dtype, a.device, false);
  runKernel<BinaryKernel>(
    'binary',
    a.device,
    op,
    out.storage.buffer,
    shape,
    viewOf(a, shape),
    viewOf(b, shape),
  );
  return out;
}

function binary(op: string, x: TensorOrNumber, y: TensorOrNumber): Tensor {
  const [a, b] = operands(op, x, y);
  const out = binaryRaw(op, a, b);
  record(op, [a, b], [out]);
  return out;
}

function compare(op: string, x: TensorOrNumber, y: TensorOrNumber): Tensor {
  const [a, b] = operands(op, x, y);
  return binaryRaw(op, a, b, 'int32');
}

/** a + b (broadcasting). */
export function add(a: TensorOrNumber, b: TensorOrNumber): Tensor {
  return binary('add', a, b);
}
/** a - b (broadcasting). */
export function sub(a: TensorOrNumber, b: TensorOrNumber): Tensor {
  return binary('sub', a, b);
}
/** a * b (broadcasting). */
export function mul(a: TensorOrNumber, b: TensorOrNumber): Tensor {
  return binary('mul', a, b);
}
/** a / b (broadcasting; int32 / int32 gives float32). */
export function div(a: TensorOrNumber, b: TensorOrNumber): Tensor {
  return binary('div', a, b);
}
/** a ** b (broadcasting). */
export function pow(a: TensorOrNumber, b: TensorOrNumber): Tensor {
  return binary('pow', a, b);
}
/** Elementwise max (NaN propagates); ties split the gradient evenly. */
export function maximum(a: TensorOrNumber, b: TensorOrNumber): Tensor {
  return binary('maximum', a, b);
}
/** Elementwise min (NaN propagates); ties split the gradient evenly. */
export function minimum(a: TensorOrNumber, b: TensorOrNumber): Tensor {
  return binary('minimum', a, b);
}
/** a == b as int32 0/1. */
export function eq(a: TensorOrNumber, b: TensorOrNumber): Tensor {
  return compare('eq', a, b);
}
/** a != b as int32 0/1. */
export function ne(a: TensorOrNumber, b: TensorOrNumber): Tensor {
  return compare('ne', a, b);
}
/** a < b as int32 0/1. */
export function lt(a: TensorOrNumber, b: TensorOrNumber): Tensor {
  return compare('lt', a, b);
}
/** a <= b as int32 0/1. */
export function le(a: TensorOrNumber, b: TensorOrNumber): Tensor {
  return compare('le', a, b);
}
/** a > b as int32 0/1. */
export function gt(a: TensorOrNumber, b: TensorOrNumber): Tensor {
  return compare('gt', a, b);
}
/** a >= b as int32 0/1. */
export function ge(a: TensorOrNumber, b: TensorOrNumber): Tensor {
  return compare('ge', a, b);
}

// ---- backward rules (grad mode is off while they run) --------------------------------------

defineGrad('add', (c, [g]) => [
  c.needsInputGrad[0] ? sumToShape(g!, c.inputs[0].shape) : null,
  c.needsInputGrad[1] ? sumToShape(g!, c.inputs[1].shape) : null,
]);
defineGrad('sub', (c, [g]) => [
  c.needsInputGrad[0] ? sumToShape(g!, c.inputs[0].shape) : null,
  c.needsInputGrad[1] ? sumToShape(neg(g!), c.inputs[1].shape) : null,
]);
defineGrad('mul', (c, [g]) => {
  const [a, b] = c.inputs;
  return [
    c.needsInputGrad[0] ? sumToShape(mul(g!, b), a.shape) : null,
    c.needsInputGrad[1] ? sumToShape(mul(g!, a), b.shape) : null,
  ];
});
defineGrad('div', (c, [g]) => {
  const [a, b] = c.inputs;
  return [
    c.needsInputGrad[0] ? sumToShape(div(g!, b), a.shape) : null,
    c.needsInputGrad[1] ? sumToShape(neg(div(mul(g!, a), square(b))), b.shape) : null,
  ];
});
defineGrad('pow', (c, [g]) => {
  const [a, b] = c.inputs;
  const y = c.outputs[0];
  return [
    c.needsInputGrad[0] ? sumToShape(mul(g!, mul(b, pow(a, sub(b, 1)))), a.shape) : null,
    // d/db a^b = a^b log a (0 where a == 0, as in PyTorch)
    c.needsInputGrad[1] ? sumToShape(mul(mul(g!, y), where(ne(a, 0), log(a), 0)), b.shape) : null,
  ];
});
function minMaxRule(pick: 'gt' | 'lt') {
  return (c: { inputs: readonly Tensor[]; needsInputGrad: readonly boolean[] }, [g]: (Tensor | null)[]) => {
    const [a, b] = c.inputs;
    const half = mul(eq(a, b), 0.5);
    const wa = add(binaryRaw(pick, a, b, a.dtype === 'int32' ? 'float32' : promote(a.dtype, b.dtype)), half);
    return [
      c.needsInputGrad[0] ? sumToShape(mul(g!, wa), a.shape) : null,
      c.needsInputGrad[1] ? sumToShape(mul(g!, sub(1, wa)), b.shape) : null,
    ];
  };
}
defineGrad('maximum', minMaxRule('gt'));
defineGrad('minimum', minMaxRule('lt'));
