/**
 * `--device`: where the model runs. Checked before any work (corpus, model), so a device this
 * process cannot serve stops the run at once.
 *
 *   cpu          the CPU backend (default)
 *   auto         the first CUDA GPU when one serves, else the CPU backend
 *   sim          @nl/tensor's simulated device, for tests: buffers only its kernels can open, the
 *                CPU kernels behind the registry (results equal --device cpu bit for bit), and
 *                counters of every host <-> device transfer
 *   cuda, cuda:N a CUDA device: a GPU seen by the addon's CUDA runtime, or, with NL_CUDA_EMULATE=1,
 *                the emulated device (every CUDA kernel run on the host; for tests, slow)
 */
import { availableDevices, cudaDeviceInfo, isDeviceString, memory, type Device } from '@nl/tensor';
import { backendFor } from '@nl/tensor/internal';
import { enableSimDevice } from '@nl/tensor/testing';
import { ConfigError } from './config.js';

/** Devices `--device` accepts, for messages. */
export const DEVICE_CHOICES = "'cpu', 'cuda', 'cuda:N', 'auto' or 'sim' (simulated test device)";

/**
 * The device `name` (a --device value) stands for, ready to use ('sim' is enabled here).
 * @throws ConfigError for an unknown device or one no backend serves
 */
export function resolveDevice(name: string): Device {
  if (name === 'auto') {
    const cuda = availableDevices().find((d) => d.startsWith('cuda'));
    return cuda !== undefined && !cudaDeviceInfo(cuda).emulated ? cuda : 'cpu';
  }
  if (!isDeviceString(name)) throw new ConfigError(`unknown device "${name}"; use ${DEVICE_CHOICES}`);
  if (name === 'sim') {
    enableSimDevice();
    return 'sim';
  }
  if (name.startsWith('cuda')) {
    try {
      backendFor(name, `--device ${name}`);
    } catch (e) {
      throw new ConfigError(`${(e as Error).message}; use --device cpu`);
    }
    return name;
  }
  if (name !== 'cpu' && !availableDevices().includes(name))
    throw new ConfigError(
      `device "${name}" is not available in this build (available: ${availableDevices().join(', ')}); use --device cpu or --device sim`,
    );
  return name;
}

/** One line: the device, with its live tensors and bytes for a non-CPU device. */
export function describeDevice(device: Device): string {
  if (device === 'cpu') return 'device: cpu';
  const m = memory().devices[device];
  const mib = (b: number) => (b / 2 ** 20).toFixed(2);
  const base = `device: ${device}${device === 'sim' ? ' (simulated test device)' : ''}, memory: ${m?.numTensors ?? 0} tensors, ${mib(m?.bytes ?? 0)} MiB`;
  if (!device.startsWith('cuda')) return base;
  const c = cudaDeviceInfo(device);
  return `${base} (${c.name}; allocator: ${mib(c.memory.inUse)} MiB in use, ${mib(c.memory.peak)} MiB peak, ${mib(c.memory.cached)} MiB cached; device: ${mib(c.memory.free)} of ${mib(c.memory.total)} MiB free; GEMM: ${c.gemm})`;
}
