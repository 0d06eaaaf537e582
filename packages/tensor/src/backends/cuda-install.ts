/**
 * Installs the CUDA backend when a device can serve it: a real GPU when the addon has CUDA
 * compiled in and the driver sees one, else the emulated device when NL_CUDA_EMULATE=1 or a test
 * calls `enableCudaEmulation()`. 'cuda' is 'cuda:0'. Kernels: ./cuda-kernels.ts (core ops) and the
 * CUDA kernel files of the other op families.
 */
import { info, native } from '@nl/native';
import type { Backend } from '../backend/types.js';
import { backendFor, registerCudaProvider } from '../backend/devices.js';
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

/** What serves a CUDA device and its memory (the caching allocator's and the device's). */
export interface CudaDeviceReport {
  device: string;
  name: string;
  emulated: boolean;
  /** Which GEMM serves it: 'cuBLAS (<path>)' or 'nl tiled kernel (...)'. */
  gemm: string;
  memory: {
    /** bytes in live buffers, bytes cached for reuse, high-water mark of inUse */
    inUse: number;
    cached: number;
    peak: number;
    /** the device's free and total bytes */
    free: number;
    total: number;
  };
}

/**
 * The device behind 'cuda' / 'cuda:N' and its memory.
 * @throws when no CUDA backend serves `device` (the message says why)
 */
export function cudaDeviceInfo(device: string = 'cuda'): CudaDeviceReport {
  if (!/^cuda(:\d+)?$/.test(device))
    throw new TypeError(`cudaDeviceInfo: not a CUDA device: ${JSON.stringify(device)}`);
  if (mode === null) backendFor(device, 'cudaDeviceInfo'); // throws with the reason
  const index = device === 'cuda' ? 0 : Number(device.slice(5));
  const d = openCudaDevice(index, mode === 'emulated');
  const m = native.cudaMemory(d.id);
  return {
    device: d.label,
    name: d.name,
    emulated: d.emulated,
    gemm: d.gemm,
    memory: { inUse: m.inUse, cached: m.cached, peak: m.peak, free: m.free, total: m.total },
  };
}

/** Waits until every kernel queued on `device` has finished (for timing; reads already wait). */
export function synchronize(device: string = 'cuda'): void {
  if (!device.startsWith('cuda')) return;
  const index = device === 'cuda' ? 0 : Number(device.slice(5));
  backendFor(device, 'synchronize');
  native.cudaSynchronize(openCudaDevice(index, mode === 'emulated').id);
}

/**
 * float32 matmul precision on a CUDA device, as torch.set_float32_matmul_precision: 'highest'
 * (exact fp32, the default), 'high' (TF32 tensor cores through cuBLAS), 'medium' (operands rounded
 * to bfloat16, products accumulated in fp32: cuBLAS GemmEx on bf16 copies, or our tiled kernel on
 * bf16-rounded copies where cuBLAS is absent and on the emulated device). Returns the previous one.
 */
export function setMatmulPrecision(precision: MatmulPrecision, device: string = 'cuda'): MatmulPrecision {
  const code = PRECISIONS.indexOf(precision);
  if (code < 0)
    throw new TypeError(
      `setMatmulPrecision: expected 'highest', 'high' or 'medium', got ${JSON.stringify(precision)}`,
    );
  backendFor(device, 'setMatmulPrecision');
  const index = device === 'cuda' ? 0 : Number(device.slice(5));
  const id = openCudaDevice(index, mode === 'emulated').id;
  const before = precisions.get(id) ?? 'highest';
  native.cudaSetMatmulPrecision(id, code as 0 | 1 | 2);
  precisions.set(id, precision);
  return before;
}

/** float32 matmul precisions (setMatmulPrecision). */
export type MatmulPrecision = 'highest' | 'high' | 'medium';
const PRECISIONS: MatmulPrecision[] = ['highest', 'high', 'medium'];
const precisions = new Map<number, MatmulPrecision>();
