// The Backend interface carries the core ops: with an instrumented backend registered for 'cuda'
// (the CPU kernels plus call counting), tensors on 'cuda:0' run elementwise, copy, reduce and
// matmul through it, forward and backward, and get the same numbers as on the CPU.
import { afterEach, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { assertClose } from '../src/index.js';

const calls: Record<string, number> = {};
const counting: T.Backend = {
  ...T.cpuBackend,
  name: 'cuda',
  allocate: (d, n, z) => ((calls.allocate = (calls.allocate ?? 0) + 1), T.cpuBackend.allocate(d, n, z)),
  binary: (...a) => ((calls.binary = (calls.binary ?? 0) + 1), T.cpuBackend.binary(...a)),
  unary: (...a) => ((calls.unary = (calls.unary ?? 0) + 1), T.cpuBackend.unary(...a)),
  copy: (...a) => ((calls.copy = (calls.copy ?? 0) + 1), T.cpuBackend.copy(...a)),
  reduce: (...a) => ((calls.reduce = (calls.reduce ?? 0) + 1), T.cpuBackend.reduce(...a)),
  gemm: (...a) => ((calls.gemm = (calls.gemm ?? 0) + 1), T.cpuBackend.gemm(...a)),
};

afterEach(() => T.registerCudaBackend(null));

describe('backend routing', () => {
  it('ops on cuda:0 tensors go through the registered backend, forward and backward', () => {
    T.registerCudaBackend(counting);
    const a = T.tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { device: 'cuda:0', dtype: 'float64', requiresGrad: true },
    );
    const b = T.tensor([0.5, -1], { device: 'cuda:0', dtype: 'float64' });
    const loss = a.matmul(a.t()).add(b).exp().sum();
    loss.backward();
    for (const k of ['allocate', 'binary', 'unary', 'reduce', 'gemm'])
      expect(calls[k] ?? 0).toBeGreaterThan(0);
    expect(a.grad!.device).toBe('cuda:0');
    // same maths on the CPU
    const c = T.tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'float64', requiresGrad: true },
    );
    const lc = c
      .matmul(c.t())
      .add(T.tensor([0.5, -1], { dtype: 'float64' }))
      .exp()
      .sum();
    lc.backward();
    assertClose('loss', [lc.item()], [loss.storage.data[loss.offset]], { rtol: 1e-14 });
    assertClose('grad', c.grad!.dataSync(), a.grad!.storage.data, { rtol: 1e-14 });
    expect(() => a.dataSync()).toThrow(/reading from cuda:0 is not implemented/);
  });
  it('without a registered backend, cuda stays unavailable with the reason', () => {
    expect(() => T.zeros([1], { device: 'cuda:0' })).toThrow(/CUDA backend not available/);
  });
});
