/**
 * Installs the CUDA backend when a device can serve it: a real GPU when the addon has CUDA
 * compiled in and the driver sees one, else the emulated device when NL_CUDA_EMULATE=1 or a test
 * calls `enableCudaEmulation()`. 'cuda' is 'cuda:0'. Kernels: ./cuda-kernels.ts (core ops) and the
 * CUDA kernel files of the other op families.
 */
import { info } from '@nl/native';
import type { Backend } from '../backend/types.js';
import { registerCudaProvider } from '../backend/devices.js';
import { cudaBackendFor, openCudaDevice } from './cuda.js';
import './cuda-kernels.js';

let mode: 'gpu' | 'emulated' | null = null;
const opened = new Map<number, Backend>();

function provider(emulated: boolean): (index: number) => Backend {
  return (index) => {
    let b = opened.get(index);
    if (b === undefined) {
      try {
        b = cudaBackendFor(openCudaDevice(index, emulated));
      } catch (e) {
        throw new Error(`CUDA backend not available: ${(e as Error).message.replace(/^nl\.cudaOpen: /, '')}`);
      }
      opened.set(index, b);
    }
    return b;
  };
}

/** True when the addon has CUDA compiled in and sees at least one GPU. */
export function hasCudaGpu(): boolean {
  try {
    const c = info().cuda;
    return c.compiled && c.devices.length > 0;
  } catch {
    return false;
  }
}

/** How 'cuda' is served now: 'gpu', 'emulated', or null (no CUDA backend). */
export function cudaMode(): 'gpu' | 'emulated' | null {
  return mode;
}

/**
 * Serves 'cuda' with the emulated device (host memory; every CUDA kernel run by the host
 * emulator), unless a real GPU already serves it and `force` is false. Idempotent.
 */
export function enableCudaEmulation(force = false): 'gpu' | 'emulated' {
  if (mode === 'gpu' && !force) return mode;
  if (mode !== 'emulated') {
    opened.clear();
    mode = 'emulated';
    registerCudaProvider(provider(true));
  }
  return mode;
}

if (hasCudaGpu()) {
  mode = 'gpu';
  registerCudaProvider(provider(false));
} else if (process.env.NL_CUDA_EMULATE === '1') {
  enableCudaEmulation();
}
