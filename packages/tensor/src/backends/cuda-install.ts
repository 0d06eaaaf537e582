/**
 * Installs the CUDA backend when a device can serve it: a real GPU when the addon has CUDA
 * compiled in and the driver sees one, else the emulated device when NL_CUDA_EMULATE=1 or a test
 * calls `enableCudaEmulation()`. 'cuda' is 'cuda:0'. Kernels: ./cuda-kernels.ts (core ops) and the
 * CUDA kernel files of the other op families.
 */
import { native } from '@nl/native';
import type { Backend } from '../backend/types.js';
import { backendFor, cudaIndex, registerCudaProvider } from '../backend/devices.js';
import { cudaBackendFor, openCudaDevice, type CudaDevice } from './cuda.js';
import './cuda-kernels.js';

let mode: 'gpu' | 'emulated' | null = null;
/** cuda:N -> its opened device and backend (filled by the provider on first use). */
const opened = new Map<number, { device: CudaDevice; backend: Backend }>();

function provider(emulated: boolean): (index: number) => Backend {
  return (index) => {
    let entry = opened.get(index);
    if (entry === undefined) {
      try {
        const device = openCudaDevice(index, emulated);
        entry = { device, backend: cudaBackendFor(device) };
      } catch (e) {
        throw new Error(`CUDA backend not available: ${(e as Error).message.replace(/^nl\.cudaOpen: /, '')}`);
      }
      opened.set(index, entry);
    }
    return entry.backend;
  };
}

/** The opened device behind 'cuda' / 'cuda:N'; throws with the reason when none serves it. */
function openedDevice(device: string, where: string): CudaDevice {
  if (!/^cuda(:\d+)?$/.test(device))
    throw new TypeError(`${where}: not a CUDA device: ${JSON.stringify(device)}`);
  backendFor(device, where); // opens it through the provider, or throws why not
  return opened.get(cudaIndex(device))!.device;
}

/**
 * True when the addon has CUDA compiled in and sees at least one GPU. Runs at import: a device
 * count only (`info()` would also look for cuBLAS on disk).
 */
export function hasCudaGpu(): boolean {
  try {
    return native.cudaDeviceCount() > 0;
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
  const d = openedDevice(device, 'cudaDeviceInfo');
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
  native.cudaSynchronize(openedDevice(device, 'synchronize').id);
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
  const id = openedDevice(device, 'setMatmulPrecision').id;
  const before = precisions.get(id) ?? 'highest';
  native.cudaSetMatmulPrecision(id, code as 0 | 1 | 2);
  precisions.set(id, precision);
  return before;
}

/** float32 matmul precisions (setMatmulPrecision). */
export type MatmulPrecision = 'highest' | 'high' | 'medium';
const PRECISIONS: MatmulPrecision[] = ['highest', 'high', 'medium'];
const precisions = new Map<number, MatmulPrecision>();
