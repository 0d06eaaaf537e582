// Devices and the kernel registry without a GPU: device strings, the reasons a device is missing,
// the registry's errors, and ops refusing operands on different devices.
import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { backendFor, getKernel, registerKernel, runKernel, hasKernel } from '../src/internal.js';
import { enableSimDevice } from '../src/testing-entry.js';

describe('devices', () => {
  it('backendFor validates device strings and explains missing CUDA', () => {
    expect(backendFor('cpu').name).toBe('cpu');
    expect(T.isDeviceString('cuda:3')).toBe(true);
    expect(T.isDeviceString('sim')).toBe(true);
    expect(T.isDeviceString('cuda:x')).toBe(false);
    expect(() => backendFor('tpu')).toThrow(/unknown device "tpu"/);
    // this file enables 'sim' only in a later test
    expect(() => T.zeros([1], { device: 'sim' })).toThrow(
      "full: the 'sim' device is not enabled; call enableSimDevice() from '@nl/tensor/testing'",
    );
    const reason = T.backendInfo().cuda.error;
    expect(() => backendFor('cuda')).toThrow(/CUDA backend not available: /);
    if (reason) expect(() => backendFor('cuda')).toThrow(reason);
    expect(() => T.zeros([1], { device: 'cuda:0' })).toThrow(/CUDA backend not available/);
  });
  it('ops refuse operands on different devices, naming both', () => {
    enableSimDevice();
    const g = T.ones([2], { device: 'sim' });
    expect(() => T.ones([2]).add(g)).toThrow(/tensors are on different devices \(cpu and sim\)/);
    expect(() => T.cat([T.ones([2]), g])).toThrow(/different devices/);
    expect(() => T.matmul(T.ones([1, 2]), g.reshape([2, 1]))).toThrow(/different devices/);
    g.dispose();
  });
});

describe('kernel registry', () => {
  it('a missing kernel names the op and the device; registering twice throws', () => {
    expect(() => getKernel('noSuchOp', 'cpu')).toThrow("noSuchOp: no kernel for device 'cpu'");
    registerKernel('test.cpuOnly', 'cpu', () => 0);
    expect(() => getKernel('test.cpuOnly', 'cuda:1')).toThrow("test.cpuOnly: no kernel for device 'cuda:1'");
    expect(hasKernel('binary', 'cuda:1')).toBe(true); // the CUDA backend's core kernels
    expect(() => registerKernel('binary', 'cpu', () => {})).toThrow(
      /'binary' already has a kernel for 'cpu'/,
    );
    registerKernel('test.twice', 'cpu', (x: number) => x + 1);
    expect(() => registerKernel('test.twice', 'cpu', (x: number) => x)).toThrow(/already has a kernel/);
    expect(runKernel<(x: number) => number>('test.twice', 'cpu', 41)).toBe(42);
    expect(hasKernel('test.twice', 'cpu')).toBe(true);
    expect(hasKernel('test.twice', 'cuda')).toBe(false);
  });
  it('sim runs the CPU kernels (mirror) unless it has its own', () => {
    enableSimDevice();
    registerKernel('test.mirror', 'cpu', () => 'cpu');
    expect(runKernel('test.mirror', 'sim')).toBe('cpu');
    registerKernel('test.own', 'cpu', () => 'cpu');
    registerKernel('test.own', 'sim', () => 'sim');
    expect(runKernel('test.own', 'sim')).toBe('sim');
  });
});
