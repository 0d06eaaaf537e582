/**
 * @nl/tensor — tensors, reverse-mode autograd, memory scopes, custom ops and testing helpers.
 * Every op runs through one kernel registry keyed by (op, backend): the CPU backend is always
 * there, 'sim' (tests) comes from `@nl/tensor/testing`, CUDA plugs in the same way. Package
 * authors who register kernels use `@nl/tensor/internal`. See the package README.
 */
import './backends/cpu-kernels.js';
import './backends/cuda-install.js';
import './tensor-methods.js';
import * as testing from './testing/index.js';

export { info as backendInfo } from '@nl/native';
export {
  cudaDeviceInfo,
  setMatmulPrecision,
  synchronize,
  type CudaDeviceReport,
  type MatmulPrecision,
} from './backends/cuda-install.js';
export { Tensor, type ParamLike, type NestedArray } from './tensor.js';
export type { DType, FloatDType, TypedArray, FloatTypedArray } from './dtype.js';
export { DTYPES, isFloat, promote } from './dtype.js';
export { type Device, isDeviceString, availableDevices } from './device.js';
export { hasNativeTensorOps } from './kernels/native-ops.js';
export { broadcastShapes, contiguousStrides, numelOf } from './shape.js';
export { Generator, manualSeed, defaultGenerator } from './random.js';
export { tidy, keep, memory, untracked, type MemoryInfo } from './memory.js';
export { setPoolLimit, poolLimit, poolStats, clearPool } from './pool.js';
export { noGrad, enableGrad, isGradEnabled } from './autograd/grad-mode.js';
export { defineGrad, gradOps, hasGradRule } from './autograd/grad-table.js';
export { runBackward as backward, type BackwardOptions } from './autograd/tape.js';
export type { GradCtx, GradRule } from './autograd/node.js';
export {
  defineOp,
  type OpDefinition,
  type OpSpec,
  type ForwardCtx,
  type BackwardCtx,
  type CustomOp,
} from './autograd/custom-op.js';
export * from './ops/creation.js';
export * from './ops/binary.js';
export * from './ops/unary.js';
export {
  sum,
  mean,
  prod,
  max,
  min,
  argmax,
  argmin,
  logsumexp,
  variance,
  sumToShape,
  type Dims,
  type VarOptions,
} from './ops/reduce.js';
export {
  view,
  reshape,
  permute,
  transpose,
  expand,
  squeeze,
  unsqueeze,
  flatten,
  contiguous,
  clone,
  detach,
} from './ops/shape-ops.js';
export { matmul } from './ops/matmul.js';
export { where, cast } from './ops/where.js';
export { softmax, logSoftmax } from './ops/softmax.js';
export { slice, narrow, select, split, chunk } from './ops/slice.js';
export { toDevice } from './ops/transfer.js';
export { cat, stack, pad } from './ops/join.js';
export { indexSelect, indexAdd, gather, scatterAdd } from './ops/index-ops.js';
export { tril, triu, cumsum, cumprod } from './ops/scan.js';
export { fill_, zero_, copy_ } from './ops/inplace.js';
export { std, norm, maskedFill, repeat, outer } from './ops/composite.js';
export { topk, multinomial } from './ops/sampling.js';
export type { TensorOrNumber } from './ops/helpers.js';
export { testing };
export { assertClose, gradcheck } from './testing/index.js';
export * as nn from './nn/index.js';
export * as io from './io/index.js';
export { crossEntropy, rmsNorm, layerNorm, embedding, causalConv1d, dropout } from './nn/functional/index.js';
