/**
 * Devices, backends and the kernel operand shape, in one place for the ops to import.
 * See src/backend/types.ts for the seam and src/backend/registry.ts for the kernel registry.
 */
export type { Backend, Device, DeviceBuffer, TransferStats } from './backend/types.js';
export { backendFor, isDeviceString, registerBackend, availableDevices } from './backend/devices.js';
export {
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
  type KernelFn,
} from './backend/registry.js';
export { hostArray } from './backend/host.js';
import type { DeviceBuffer } from './backend/types.js';

/** A strided read operand: a buffer, an element offset, strides already broadcast to the op's shape. */
export interface KernelOperand {
  readonly buffer: DeviceBuffer;
  readonly offset: number;
  readonly strides: readonly number[];
}
