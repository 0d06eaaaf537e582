/**
 * Device strings -> backends. 'cpu' is always there; 'sim' once `enableSimDevice()` (from
 * `@nl/tensor/testing`) installs it; 'cuda' / 'cuda:N' once a CUDA backend registers. Asking for a
 * device without a backend throws with the reason (for CUDA, `native.info().cuda.error`).
 */
import { info } from '@nl/native';
import type { Backend, Device } from './types.js';
import { backendKey } from './registry.js';
import { cpuBackend } from '../backends/cpu.js';

const backends = new Map<string, Backend>([['cpu', cpuBackend]]);
/** 'cuda:N' -> its backend, once a CUDA provider is installed (backends/cuda-install.ts). */
let cudaProvider: ((index: number) => Backend) | null = null;

/** Installs (or with null removes) the function that opens CUDA device N's backend. */
export function registerCudaProvider(provider: ((index: number) => Backend) | null): void {
  cudaProvider = provider;
}

/** The device index of 'cuda' (0) or 'cuda:N'. */
export function cudaIndex(device: string): number {
  return device === 'cuda' ? 0 : Number(device.slice(5));
}

/** True when `d` is a syntactically valid device string. */
export function isDeviceString(d: unknown): d is Device {
  return typeof d === 'string' && (d === 'cpu' || d === 'sim' || d === 'cuda' || /^cuda:\d+$/.test(d));
}

function cudaReason(): string {
  try {
    const c = info().cuda;
    if (!c.compiled) return c.error ?? 'the addon was built without CUDA';
    if (c.devices.length === 0) return c.error ?? 'no CUDA device found';
    return 'the CUDA backend is not installed (import @nl/tensor)';
  } catch (e) {
    return String((e as Error).message);
  }
}

/**
 * Validates a device string and returns the backend serving it.
 * @throws for malformed strings, for 'sim' before enableSimDevice(), and for CUDA with the reason
 */
export function backendFor(device: unknown, where = 'device'): Backend {
  if (device === 'cpu') return cpuBackend;
  if (!isDeviceString(device)) {
    throw new TypeError(
      `${where}: unknown device ${JSON.stringify(device)} (expected 'cpu', 'cuda', 'cuda:N' or 'sim')`,
    );
  }
  const b = backends.get(backendKey(device));
  if (b !== undefined) return b;
  if (cudaProvider !== null && backendKey(device) === 'cuda') return cudaProvider(cudaIndex(device));
  if (device === 'sim')
    throw new Error(
      `${where}: the 'sim' device is not enabled; call enableSimDevice() from '@nl/tensor/testing'`,
    );
  throw new Error(`${where}: CUDA backend not available: ${cudaReason()}`);
}

/**
 * Installs (or with null removes) the backend serving a device kind: 'sim' or 'cuda'.
 * Its kernels are registered separately, under the backend's name, in the kernel registry.
 */
export function registerBackend(kind: 'sim' | 'cuda', backend: Backend | null): void {
  if (backend === null) backends.delete(kind);
  else backends.set(kind, backend);
}

/** Devices with a backend now ('cpu' first). */
export function availableDevices(): Device[] {
  const out = [...backends.keys()] as Device[];
  if (cudaProvider !== null && !out.includes('cuda')) out.push('cuda');
  return out;
}
