// The 'sim' device itself: its buffers are opaque handles (only kernels can open them), every
// host<->device transfer is counted, memory() reports it per device, and the user-facing reads
// (dataSync, data, item, toArray, to) go through the backend.
import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { nn } from '../src/index.js';
import { hostArray, runKernel, registerKernel, storageOf } from '../src/internal.js';
import { enableSimDevice, resetSimTransfers, simTransfers } from '../src/testing-entry.js';

enableSimDevice();

describe("'sim' buffers", () => {
  it('are not typed arrays, and open only inside a kernel', () => {
    const x = T.tensor([1, 2, 3], { device: 'sim' });
    expect(ArrayBuffer.isView(x.storage.buffer)).toBe(false);
    expect(() => hostArray(x.storage.buffer)).toThrow(/sim: a device buffer was read outside a kernel/);
    expect(() => storageOf(x)).toThrow(/outside a kernel/);
    expect(() => x.rawView()).toThrow(/tensor is on sim; only CPU tensors expose a host view/);
    expect(() => x.view).toThrow(/only CPU tensors expose a host view/);
    registerKernel('test.sum', 'cpu', (t: T.Tensor) => Array.from(storageOf(t)).reduce((a, b) => a + b, 0));
    expect(runKernel('test.sum', 'sim', x)).toBe(6);
    x.dispose();
  });
  it('count uploads and downloads; ops in between transfer nothing', () => {
    resetSimTransfers();
    const x = T.tensor([1, 2, 3, 4], { device: 'sim' });
    expect(simTransfers()).toEqual({ uploads: 1, uploadBytes: 16, downloads: 0, downloadBytes: 0 });
    const y = x.mul(2).add(1).sum();
    expect(simTransfers().downloads).toBe(0);
    expect(y.item()).toBe(24);
    expect(simTransfers()).toEqual({ uploads: 1, uploadBytes: 16, downloads: 1, downloadBytes: 4 });
    expect(Array.from(x.dataSync())).toEqual([1, 2, 3, 4]);
    expect(simTransfers().downloads).toBe(2);
    x.dispose();
    y.dispose();
  });
  it('dataSync / data / toArray / item read through the backend, strided views included', async () => {
    const x = T.tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { device: 'sim' },
    );
    const t = x.t(); // strided view: gathered on the device, then one download
    resetSimTransfers();
    expect(Array.from(t.dataSync())).toEqual([1, 4, 2, 5, 3, 6]);
    expect(simTransfers().downloads).toBe(1);
    expect(Array.from(await t.data())).toEqual([1, 4, 2, 5, 3, 6]);
    expect(t.toArray()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    expect(x.select(1, 2).select(0, 1).item()).toBe(6);
    x.dispose();
    await expect(x.data()).rejects.toThrow(/used after dispose/);
  });
  it('to() moves between devices both ways; gradients flow back', () => {
    const a = T.tensor([1, 2, 3], { requiresGrad: true, dtype: 'float64' });
    const s = a.to('sim');
    expect(s.device).toBe('sim');
    const loss = s.mul(s).sum().to('cpu');
    loss.backward();
    expect(Array.from(a.grad!.dataSync())).toEqual([2, 4, 6]);
    expect(a.to('cpu')).toBe(a);
    expect(() => a.to('tpu' as never)).toThrow(/unsupported dtype|unknown device/);
  });
  it('memory() reports live tensors and bytes per device', () => {
    const before = T.memory();
    const x = T.zeros([10], { device: 'sim' });
    const y = T.zeros([5], { device: 'sim', dtype: 'float64' });
    const m = T.memory();
    expect(m.devices.sim.numTensors - (before.devices.sim?.numTensors ?? 0)).toBe(2);
    expect(m.devices.sim.bytes - (before.devices.sim?.bytes ?? 0)).toBe(80);
    expect(m.devices.cpu).toEqual(before.devices.cpu);
    x.dispose();
    y.dispose();
    expect(T.memory().devices.sim).toEqual(before.devices.sim ?? { numTensors: 0, bytes: 0 });
  });
  it('nn.Module.to(device) moves parameters; a CPU state dict loads into a sim module', () => {
    T.manualSeed(5);
    const cpu = new nn.Linear(3, 2);
    const sim = new nn.Linear(3, 2).to('sim');
    expect(sim.weight.device).toBe('sim');
    expect(sim.weight.requiresGrad).toBe(true);
    sim.loadStateDict(cpu.stateDict());
    const x = T.tensor([[1, -2, 0.5]]);
    expect(Array.from(sim.forward(x.to('sim')).dataSync())).toEqual(Array.from(cpu.forward(x).dataSync()));
    nn.init.normal_(sim.weight, 0, 1); // init writes on the device
    expect(sim.weight.device).toBe('sim');
  });
});
