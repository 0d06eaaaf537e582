// AdamW on 'cuda' is multi-tensor: a step over L parameters is ceil(L / 16) launches per dtype
// (torch's multi_tensor_apply), each tensor with its own step size. 31 parameters of different
// sizes (one without a gradient for two steps, so its bias correction differs), float32 and
// float64 mixed, non-contiguous gradients: parameters and moments equal the CPU's after 3 steps.
import { expect, it, vi } from 'vitest';
import { tensor, type Device, type Tensor } from '@nl/tensor';
import { native } from '@nl/native';
import { assertClose, enableCudaEmulation } from '@nl/tensor/testing';
import { AdamW } from '../src/index.js';

enableCudaEmulation();

function run(device: Device, spy = false) {
  let s = 5;
  const r = () => (s = (s * 16807) % 2147483647) / 2147483647 - 0.5;
  const sizes = Array.from({ length: 30 }, (_, i) => [1 + (i % 5), 3 + i * 7]);
  const params: Tensor[] = sizes.map(([a, b], i) =>
    tensor(Array.from({ length: a! * b! }, r), {
      shape: [a!, b!],
      device,
      dtype: i % 3 === 0 ? 'float64' : 'float32',
      requiresGrad: true,
    }),
  );
  const late = tensor(Array.from({ length: 300 }, r), { shape: [300], device, requiresGrad: true });
  const opt = new AdamW([...params, late], { lr: 0.01, weightDecay: 0.1 });
  const calls: number[] = [];
  for (let step = 0; step < 3; step++) {
    // `late` has no gradient for two steps: its step count (bias correction) differs from the rest
    for (const p of step < 2 ? params : [...params, late]) {
      const data = Array.from({ length: p.numel }, r);
      // every other 2-D gradient is a transposed (non-contiguous) view
      p.grad =
        p.ndim === 2 && p.numel % 2 === 0
          ? tensor(data, { shape: [p.shape[1]!, p.shape[0]!], device, dtype: p.dtype }).t()
          : tensor(data, { shape: p.shape, device, dtype: p.dtype });
    }
    const sp = spy ? vi.spyOn(native, 'cudaOptimEwMulti') : null;
    opt.step();
    if (sp) {
      calls.push(sp.mock.calls.length);
      sp.mockRestore();
    }
  }
  expect(params.some((p) => p.grad !== null && !p.grad.isContiguous)).toBe(true);
  const out = [...params, late].map((p) => Array.from(p.dataSync()));
  const state = [...params, late].map((p) => Array.from((opt.state.get(p)!.expAvgSq as Tensor).dataSync()));
  return { out, state, calls };
}

it('AdamW over 31 tensors: ceil(L/16) launches per dtype, the CPU numbers', () => {
  const cpu = run('cpu');
  const gpu = run('cuda', true);
  // 10 float64 + 20 float32 params (+ the late float32 one at step 3): 1 + 2 launches a step
  expect(gpu.calls).toEqual([3, 3, 3]);
  cpu.out.forEach((v, i) => assertClose(`param ${i}`, gpu.out[i]!, v, { rtol: 1e-5, atol: 1e-7 }));
  cpu.state.forEach((v, i) => assertClose(`v ${i}`, gpu.state[i]!, v, { rtol: 1e-5, atol: 1e-9 }));
});
