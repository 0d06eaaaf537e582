/**
 * The one place nn/ and io/ import the tensor core from, so the rest of nn/ never depends on
 * the core's file layout (and never imports the package index, which re-exports nn/: a cycle).
 */
import '../tensor-methods.js'; // op methods (x.matmul, x.add, ...) on Tensor
export { Tensor } from '../tensor.js';
export { noGrad, isGradEnabled } from '../autograd/grad-mode.js';
export { defineOp, type CustomOp, type OpDefinition } from '../autograd/custom-op.js';
export { empty, fromTypedArray, full, ones, rand, randint, randn, tensor, zeros } from '../ops/creation.js';
export { copy_, fill_ } from '../ops/inplace.js';
