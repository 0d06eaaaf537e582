/**
 * `@nl/tensor/testing` — what tests of every @nl package use: `assertClose`, `gradcheck`, and the
 * simulated device. `enableSimDevice()` makes the device string 'sim' available: buffers that are
 * not typed arrays (only kernels dispatched by the registry can open them), the CPU kernels behind
 * the registry, and counters of every host<->device transfer (`simTransfers()`).
 *
 *   enableSimDevice();
 *   const x = tensor([1, 2, 3], { device: 'sim' });   // one upload
 *   resetSimTransfers();
 *   const y = x.mul(2).sum();                          // no transfer
 *   y.item();                                          // one download
 */
import { native } from '@nl/native';
import './backends/cpu-kernels.js';
import './backends/cuda-install.js';
import './tensor-methods.js';
import { installSimBackend, resetSimTransfers, simTransfers } from './backends/sim.js';
import { availableDevices, type Device } from './device.js';

export { assertClose, gradcheck } from './testing/index.js';
export type { CloseOptions, Comparable, GradcheckOptions, GradcheckResult } from './testing/index.js';
export { simTransfers, resetSimTransfers };
import { enableCudaEmulation } from './backends/cuda-install.js';
export { enableCudaEmulation };
export { cudaMode } from './backends/cuda-install.js';

/**
 * The order the emulated CUDA device runs each kernel phase's threads (and a grid's blocks) in:
 * 'forward' | 'reverse' | `shuffle:${seed}` | 'check' (every launch in four orders, compared; an
 * order-dependent result — a race — fails the op). Process-wide; NL_CUDA_EMU_ORDER sets it when the
 * emulated device opens. Returns the order before; without an argument only reads it. See
 * native/README.md, "Race check by schedule permutation".
 */
export function setCudaEmulatorOrder(order?: string): string {
  return native.cudaEmuSetThreadOrder(order);
}
export type { TransferStats } from './backend/types.js';

/** Installs the 'sim' device (idempotent). */
export function enableSimDevice(): void {
  installSimBackend();
}

/**
 * Devices one test body should run on: 'cpu', 'sim' (enabled here) and 'cuda': a real GPU when
 * one serves it, else the emulated CUDA device (every CUDA kernel run by the host emulator), so
 * CUDA kernels are diffed against the CPU in CI. `{ cuda: false }` leaves CUDA out.
 */
let announced = false;
export function testDevices(opts: { cuda?: boolean } = {}): Device[] {
  installSimBackend();
  if (opts.cuda !== false && enableCudaEmulation() === 'emulated' && !announced) {
    announced = true;
    // loud, once per process: the CUDA cases ran, but not on a GPU
    console.warn(
      "testDevices: no CUDA GPU here — 'cuda' runs on the emulated device (every CUDA kernel through the host emulator); races, cuBLAS and speed need a GPU (tools/gpu)",
    );
  }
  const all = availableDevices();
  return opts.cuda === false ? all.filter((d) => !d.startsWith('cuda')) : all;
}
