/**
 * `--device`: where the model runs. Checked before any work (corpus, model), so a device this
 * process cannot serve stops the run at once.
 *
 *   cpu          the CPU backend (default)
 *   auto         the CPU backend (the first CUDA device once a CUDA backend is registered)
 *   sim          @nl/tensor's simulated device, for tests: buffers only its kernels can open, the
 *                CPU kernels behind the registry (results equal --device cpu bit for bit), and
 *                counters of every host <-> device transfer
 *   cuda, cuda:N a CUDA device, when a CUDA backend is registered (none is yet)
 */
import { availableDevices, isDeviceString, memory, type Device } from '@nl/tensor';
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
    return cuda ?? 'cpu';
  }
  if (!isDeviceString(name)) throw new ConfigError(`unknown device "${name}"; use ${DEVICE_CHOICES}`);
  if (name === 'sim') {
    enableSimDevice();
    return 'sim';
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
  const mib = ((m?.bytes ?? 0) / 2 ** 20).toFixed(2);
  return `device: ${device}${device === 'sim' ? ' (simulated test device)' : ''}, memory: ${m?.numTensors ?? 0} tensors, ${mib} MiB`;
}
