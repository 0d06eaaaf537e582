/**
 * `@nl/tensor/internal` — for packages that add kernels or fused ops (@nl/memory, @nl/optim, a
 * CUDA backend), not for model code: the kernel registry, backends, buffer access inside kernels,
 * and the autograd recorder. Nothing here is needed to build or train a model.
 */
import './backends/cpu-kernels.js';
import './backends/cuda-install.js';
import './tensor-methods.js';

export {
  type Backend,
  type DeviceBuffer,
  type KernelOperand,
  type KernelFn,
  type TransferStats,
  backendFor,
  registerBackend,
  registerKernel,
  getKernel,
  runKernel,
  hasKernel,
  registeredKernels,
  traceKernels,
  mirrorBackend,
  insideKernel,
  inKernelScope,
  kernelDevice,
  hostArray,
} from './device.js';
export { storageOf, elementsOf, stridedOf } from './kernels/host.js';
export { adoptOutput } from './ops/adopt.js';
export { record } from './autograd/tape.js';
export { empty_ as emptyTensor } from './ops/helpers.js';
export { cpuBackend } from './backends/cpu.js';
export {
  CudaBuffer,
  type CudaDevice,
  cudaPointer,
  cudaDType,
  cudaDTypeOf,
  cudaDeviceOf,
  scratch as cudaScratch,
  releaseScratch as releaseCudaScratch,
} from './backends/cuda.js';
export { cudaMode, hasCudaGpu } from './backends/cuda-install.js';
export { cudaFirstBadIndex, type BadIndex } from './backends/cuda/select-check.js';
export { poolStats, clearPool } from './pool.js';
