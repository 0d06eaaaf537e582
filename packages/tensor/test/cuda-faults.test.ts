// Bad indices found by CUDA kernels that do not wait for the device (embedding ids, cross-entropy
// targets) are reported at the next read from the device — sync, async or synchronize() — as an
// Error naming the op and the bad value, and the report is cleared (later reads work). The same
// calls on the CPU throw at once. Runs on the emulated device without a GPU.
import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { enableCudaEmulation } from '../src/testing-entry.js';

enableCudaEmulation();

describe('CUDA kernels report bad indices at the next read', () => {
  it('embedding: an id outside the table (dataSync, then the next read works)', () => {
    const w = T.randn([5, 3], { device: 'cuda' });
    const ids = T.tensor([1, 7, 2], { dtype: 'int32', device: 'cuda' });
    expect(() => T.embedding(ids.to('cpu'), w.to('cpu'))).toThrow(RangeError); // the CPU throws at once
    const out = T.embedding(ids, w); // queued: no wait
    expect(() => out.dataSync()).toThrow(/nn\.embedding: id 7 is out of range .*next read from the device/);
    const ok = T.embedding(T.tensor([0, 4], { dtype: 'int32', device: 'cuda' }), w);
    expect(ok.dataSync().length).toBe(6);
  });

  it('crossEntropy: a target outside the classes (await data())', async () => {
    const logits = T.randn([3, 4], { device: 'cuda' });
    const t = T.tensor([0, -3, 2], { dtype: 'int32', device: 'cuda' });
    const loss = T.crossEntropy(logits, t);
    await expect(loss.data()).rejects.toThrow(/nn\.crossEntropy: target -3 is out of range/);
    const good = T.crossEntropy(logits, T.tensor([0, -100, 2], { dtype: 'int32', device: 'cuda' }));
    expect(Number.isFinite(good.item())).toBe(true);
  });

  it('synchronize() reports it too', () => {
    const w = T.randn([2, 2], { device: 'cuda' });
    T.embedding(T.tensor([-1], { dtype: 'int32', device: 'cuda' }), w);
    expect(() => T.synchronize('cuda')).toThrow(/id -1 is out of range/);
    expect(() => T.synchronize('cuda')).not.toThrow();
  });
});
