/**
 * Race check of the CUDA kernels the language models run (native/README.md, "Race check by schedule
 * permutation"): on the emulated device, HopeLM (self-modifying Titans, CMS, attention-free mixing
 * through gemm / elementwise / layout / reduce / nn kernels), DeltaNetLM (gated delta rule) and
 * TitansLM (fused Titans MLP) run forward, loss + backward and a multi-tensor AdamW step with the
 * threads of every kernel phase (and the blocks) in forward, reverse and two shuffled orders. A
 * race-free kernel gives the same bits in every order, so every output must be bit-identical —
 * except where float atomic adds sum in another order (the embedding backward: its gradient and the
 * parameters AdamW updates from it agree to float32 rounding). Then the same under 'check', which
 * compares every launch in the four orders from the same memory.
 * Every op family's own tests run under the check in tools/cuda-race-check.sh.
 */
import { noGrad, tensor, type Tensor } from '@nl/tensor';
import { AdamW } from '@nl/optim';
import { cudaMode, enableCudaEmulation, setCudaEmulatorOrder } from '@nl/tensor/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { DeltaNetLM } from '../src/models/deltanet.js';
import { HopeLM } from '../src/models/hope.js';
import { TitansLM } from '../src/models/titans-lm.js';
import type { HopeConfigInput } from '../src/models/hope-config.js';

enableCudaEmulation();
const initial = setCudaEmulatorOrder();
afterAll(() => void setCudaEmulatorOrder(initial));

const V = 13,
  B = 2,
  T = 9;
const IDS = Array.from({ length: B * (T + 1) }, (_, i) => (i * 7 + 3) % V);
const arr = (t: Tensor): number[] => Array.from(t.dataSync());

interface Model {
  forward(ids: Tensor): Tensor;
  lossAndBackward(ids: Tensor): number;
  namedParameters(): [string, Tensor][];
  parameters(): Tensor[];
}

// logits, loss, every gradient and the parameters after one AdamW step, by parameter name
function run(make: () => Model, order: string): Map<string, number[]> {
  const before = setCudaEmulatorOrder(order);
  try {
    const m = make();
    const out = new Map<string, number[]>();
    out.set(
      'logits',
      noGrad(() =>
        arr(m.forward(tensor(IDS.slice(0, T), { shape: [1, T], dtype: 'int32', device: 'cuda' }))),
      ),
    );
    out.set('loss', [m.lossAndBackward(tensor(IDS, { shape: [B, T + 1], dtype: 'int32', device: 'cuda' }))]);
    for (const [n, p] of m.namedParameters()) if (p.grad !== null) out.set(`grad ${n}`, arr(p.grad));
    new AdamW(m.parameters(), { lr: 1e-2 }).step();
    for (const [n, p] of m.namedParameters()) out.set(`after ${n}`, arr(p));
    return out;
  } finally {
    setCudaEmulatorOrder(before);
  }
}

// the embedding table's gradient comes from float atomic adds (one per token), so do its updated values
const atomic = (key: string) => /^(grad|after) .*embed/i.test(key);

function expectSameBits(ref: Map<string, number[]>, got: Map<string, number[]>, order: string): void {
  expect([...got.keys()]).toEqual([...ref.keys()]);
  for (const [key, want] of ref) {
    const have = got.get(key)!;
    if (!atomic(key)) {
      expect(have, `${key} under ${order}`).toEqual(want);
      continue;
    }
    for (let i = 0; i < want.length; i++)
      expect(Math.abs(have[i]! - want[i]!), `${key}[${i}] under ${order}`).toBeLessThanOrEqual(
        1e-6 * Math.abs(want[i]!) + 1e-7,
      );
  }
}

const hope = (): Model =>
  new HopeLM({
    kind: 'hope',
    vocabSize: V,
    dim: 16,
    layers: 1,
    heads: 2,
    memoryHidden: 4,
    cmsLevels: [
      { chunkSize: 4, lr: 1e-3 },
      { chunkSize: 8, lr: 1e-3 },
    ],
    cmsHidden: 16,
    seed: 3,
    selfModImpl: 'fused',
    chunkMem: 4,
    chunkOther: 2,
  } as HopeConfigInput).to('cuda');
const deltanet = (): Model =>
  new DeltaNetLM({ vocabSize: V, dim: 16, layers: 1, heads: 2, seed: 3, chunkSize: 4, learnInit: true }).to(
    'cuda',
  );
const titans = (): Model =>
  new TitansLM({ vocabSize: V, dim: 16, layers: 1, heads: 2, seed: 3, chunkSize: 4, impl: 'fused' }).to(
    'cuda',
  );

describe.skipIf(cudaMode() !== 'emulated')('CUDA kernels give the same bits in every thread order', () => {
  const models: [string, () => Model][] = [
    ['HopeLM (self-modifying Titans, CMS)', hope],
    ['DeltaNetLM (gated delta rule)', deltanet],
    ['TitansLM (fused Titans MLP)', titans],
  ];
  for (const [name, make] of models)
    it(`${name}: forward, backward and an AdamW step under reverse, shuffle:1, shuffle:2 and check`, () => {
      const ref = run(make, 'forward');
      expect(ref.get('loss')![0]).toBeGreaterThan(0);
      for (const order of ['reverse', 'shuffle:1', 'shuffle:2', 'check'])
        expectSameBits(ref, run(make, order), order);
    });
});
