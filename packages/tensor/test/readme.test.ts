// The README's first example, run as written (loss goes down, memory stays flat).
import { expect, it } from 'vitest';
import { randn, manualSeed, tidy, noGrad, memory } from '../src/index.js';

it('README example trains and keeps memory flat', () => {
  manualSeed(0);
  const w = randn([4, 3], { requiresGrad: true }); // [in, out]
  const x = randn([8, 4]); // [batch, in]
  const losses: number[] = [];
  const mem: number[] = [];
  for (let step = 0; step < 100; step++) {
    const loss = tidy(() => {
      const l = x.matmul(w).tanh().sub(0.5).square().mean(); // []
      l.backward(); // accumulates w.grad: [4, 3]
      return l.item();
    });
    noGrad(() => {
      const v = w.view; // live Float32Array of w (ParamLike)
      const g = w.gradView!;
      for (let i = 0; i < v.length; i++) v[i] -= 0.5 * g[i];
      g.fill(0);
    });
    losses.push(loss);
    mem.push(memory().numTensors);
  }
  expect(losses[99]).toBeLessThan(losses[0] * 0.5);
  expect(new Set(mem.slice(1)).size).toBe(1);
  w.dispose();
  x.dispose();
});

// The "Devices and kernels" and "Custom ops" examples of the README, as written.
import { defineOp, tensor, type Tensor } from '../src/index.js';
import { adoptOutput, elementsOf } from '../src/internal.js';
import { enableSimDevice, resetSimTransfers, simTransfers } from '../src/testing-entry.js';

it('README sim example: forward and backward on the device transfer nothing', () => {
  enableSimDevice();
  const x = tensor([1, 2, 3, 4], { device: 'sim', requiresGrad: true }); // one upload
  resetSimTransfers();
  const loss = x.mul(x).sum();
  loss.backward();
  expect(simTransfers().downloads).toBe(0);
  expect(loss.item()).toBe(30);
  expect(simTransfers().downloads).toBe(1);
});

it('README custom op: a CPU kernel forward, a tensor-op backward, on cpu and sim', () => {
  const cube = defineOp({
    name: 'example.cube',
    forward: {
      cpu(_ctx, [x]) {
        const v = elementsOf(x);
        const y = new Float32Array(v.length);
        for (let i = 0; i < v.length; i++) y[i] = v[i] ** 3;
        return adoptOutput(y, x.shape);
      },
    },
    backward(ctx, [g]) {
      const [x] = ctx.inputs;
      return [g!.mul(x.square()).mul(3)];
    },
  });
  for (const device of ['cpu', 'sim'] as const) {
    enableSimDevice();
    const x = tensor([1, 2], { requiresGrad: true, device });
    const y = cube([x]) as Tensor;
    y.sum().backward();
    expect(y.device).toBe(device);
    expect(Array.from(y.dataSync())).toEqual([1, 8]);
    expect(Array.from(x.grad!.dataSync())).toEqual([3, 12]);
  }
});

// The "CUDA" example of the README, as written, on the emulated device (a GPU when one serves).
import { cudaDeviceInfo, matmul, setMatmulPrecision } from '../src/index.js';
import { enableCudaEmulation } from '../src/testing-entry.js';

it('README CUDA example runs (emulated device here) and agrees with the CPU', async () => {
  enableCudaEmulation();
  const a = randn([64, 48], { device: 'cuda' }); // drawn on the host, one upload
  const c = matmul(a, a.t());
  const info = cudaDeviceInfo('cuda');
  expect(info.gemm).toMatch(/cuBLAS|tiled/);
  expect(info.memory.inUse).toBeGreaterThan(0);
  setMatmulPrecision('high');
  const rowSums = await c.sum(1).data();
  setMatmulPrecision('highest');
  const cpu = a.to('cpu');
  const want = matmul(cpu, cpu.t()).sum(1).dataSync();
  expect(rowSums.length).toBe(64);
  for (let i = 0; i < 64; i++) expect(rowSums[i]).toBeCloseTo(want[i]!, 3);
  for (const t of [a, c, cpu]) t.dispose();
});
