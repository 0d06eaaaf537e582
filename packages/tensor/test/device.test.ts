// Device handling without a GPU: tensors on another device (built directly on a Storage, as a
// future CUDA backend would) are refused by ops with a message naming both devices, and host
// reads refuse them clearly.
import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { Storage } from '../src/storage.js';

const fake = () => new T.Tensor(new Storage(new Float32Array(2), 'float32', 'cuda:0'), [2], [1], 0);

describe('devices', () => {
  it('ops refuse operands on different devices, naming both', () => {
    const g = fake();
    expect(() => T.ones([2]).add(g)).toThrow(/tensors are on different devices \(cpu and cuda:0\)/);
    expect(() => T.cat([T.ones([2]), g])).toThrow(/different devices/);
    expect(() => g.view).toThrow(/tensor is on cuda:0; only CPU tensors expose a host view/);
    expect(() => g.dataSync()).toThrow(/reading from cuda:0 is not implemented/);
    expect(() => T.matmul(g.reshape([1, 2]), g.reshape([2, 1]))).toThrow(/CUDA backend not available/);
    expect(() => g.cumsum(0)).toThrow(/cuda:0/);
    g.dispose();
  });
  it('backendFor validates device strings and explains missing CUDA', () => {
    expect(T.backendFor('cpu').name).toBe('cpu');
    expect(T.isDeviceString('cuda:3')).toBe(true);
    expect(T.isDeviceString('cuda:x')).toBe(false);
    const reason = T.backendInfo().cuda.error;
    expect(() => T.backendFor('cuda')).toThrow(/CUDA backend not available: /);
    if (reason) expect(() => T.backendFor('cuda')).toThrow(reason);
  });
});
