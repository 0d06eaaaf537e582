/**
 * CUDA entry points of the emulated device's race check (native/src/binding/cuda_emu.cc,
 * cuda/host/emu_order.h): the order the host emulator runs blocks and threads in. A race-free
 * kernel gives the same bits in every order; a racy one does not.
 */
import type { CudaPtr } from './cuda.js';

/** 'forward' | 'reverse' | `shuffle:${seed}` | 'check' (every launch in four orders, compared). */
export type CudaEmuOrder = string;

export interface CudaEmuBinding {
  /**
   * Sets the emulator's thread order (process-wide; NL_CUDA_EMU_ORDER sets it when the emulated
   * device first opens) and returns the one before; without an argument only reads it.
   */
  cudaEmuSetThreadOrder(order?: CudaEmuOrder): CudaEmuOrder;
  /**
   * Test-only kernels (cuda/host/race_probe.h) on float32 `out` of the emulated device, one block
   * of `threads`: 0 race-free (out[t] = t + 2 mod n, through shared memory and a barrier),
   * 1 every thread writes out[0] = t, 2 the same as 0 without its barrier, 3 out[0] += 0.1 (t + 1)
   * by float atomic adds.
   */
  cudaEmuRaceProbe(kind: 0 | 1 | 2 | 3, out: CudaPtr, threads: number): void;
}
