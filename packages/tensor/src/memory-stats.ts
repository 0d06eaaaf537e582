/**
 * Process-wide counters behind `memory()`: live tracked tensors and the bytes of the storages
 * they use (each storage counted once, however many views share it), in total and per device.
 */
export const stats = { numTensors: 0, bytes: 0 };

/** Per-device tensors and bytes. */
export interface DeviceMemory {
  numTensors: number;
  bytes: number;
}
const perDevice = new Map<string, DeviceMemory>([['cpu', { numTensors: 0, bytes: 0 }]]);

/** The live counters of `device` (created on first use). */
export function deviceStats(device: string): DeviceMemory {
  let s = perDevice.get(device);
  if (s === undefined) {
    s = { numTensors: 0, bytes: 0 };
    perDevice.set(device, s);
  }
  return s;
}

/** A copy of every device's counters. */
export function allDeviceStats(): Record<string, DeviceMemory> {
  const out: Record<string, DeviceMemory> = {};
  for (const [d, s] of perDevice) out[d] = { ...s };
  return out;
}
