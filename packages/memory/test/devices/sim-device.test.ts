/**
 * Every fused memory op and module on every host device: one body runs on 'cpu' and on 'sim'
 * (the simulated device of @nl/tensor/testing: opaque buffers, the CPU kernels behind the
 * registry, transfer counters). The sim run must equal the CPU run bit for bit (outputs, final
 * fast state, every input and parameter gradient) and a forward + backward on sim (CMS: also the
 * observe updates) must download nothing: results are read only after the count is taken.
 */
import { describe, expect, it } from 'vitest';
import { manualSeed, mul, sum, tensor, type Tensor } from '@nl/tensor';
import { enableSimDevice, resetSimTransfers, simTransfers } from '@nl/tensor/testing';
import {
  ContinuumMemory,
  GatedDeltaMemory,
  LinearMemory,
  SelfModifyingTitans,
  setDebugChecks,
  TitansMemory,
} from '../../src/index.js';

enableSimDevice();

type Device = 'cpu' | 'sim';
interface Input {
  shape: number[];
  lo: number;
  hi: number;
}
interface Module {
  to(d: Device): unknown;
  parameters(): Tensor[];
}
interface Result {
  downloads: number;
  values: number[][];
  grads: (number[] | null)[];
}

/** Deterministic uniform float32 data (mulberry32). */
function data(seed: number, n: number, lo: number, hi: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

/** ½ Σ t² over every tensor, backpropagated (the gradient of each tensor is itself). */
function backprop(ts: Tensor[]): void {
  let loss: Tensor | null = null;
  for (const t of ts) {
    const l = mul(sum(mul(t, t)), 0.5);
    loss = loss === null ? l : loss.add(l);
  }
  loss!.backward();
}

/**
 * Builds the module (same seed, same parameters on every device), moves it to `device`, creates
 * the inputs there as leaves, runs `step` (forward(s), backprop, updates) with the transfer
 * counters reset, then reads the tensors `step` returned and every gradient.
 */
function run<M extends Module>(
  device: Device,
  build: () => M,
  inputs: Input[],
  step: (m: M, ins: Tensor[]) => Tensor[],
): Result {
  manualSeed(7);
  const m = build();
  m.to(device);
  const ins = inputs.map((x, i) => {
    const n = x.shape.reduce((a, b) => a * b, 1);
    return tensor(data(100 + i, n, x.lo, x.hi), { shape: x.shape, device, requiresGrad: true });
  });
  resetSimTransfers();
  const outs = step(m, ins);
  const downloads = simTransfers().downloads;
  for (const t of [...outs, ...ins]) expect(t.device).toBe(device);
  return {
    downloads,
    values: outs.map((t) => Array.from(t.dataSync())),
    grads: [...ins, ...m.parameters()].map((t) => (t.grad === null ? null : Array.from(t.grad.dataSync()))),
  };
}

/** The same body on cpu and sim: equal bit for bit, no download on sim, some gradient everywhere. */
function sameOnSim<M extends Module>(
  build: () => M,
  inputs: Input[],
  step: (m: M, ins: Tensor[]) => Tensor[],
) {
  const cpu = run('cpu', build, inputs, step);
  const sim = run('sim', build, inputs, step);
  expect(sim.downloads).toBe(0);
  expect(sim.values).toEqual(cpu.values);
  expect(sim.grads).toEqual(cpu.grads);
  for (const [i, g] of cpu.grads.entries()) {
    expect(g, `gradient ${i}`).not.toBeNull();
    expect(
      g!.some((v) => v !== 0),
      `gradient ${i} is all zeros`,
    ).toBe(true);
    expect(g!.every(Number.isFinite), `gradient ${i} is not finite`).toBe(true);
  }
}

const B = 2;
const H = 2;
const seq = (T: number, D: number): Input => ({ shape: [B, T, H, D], lo: -1, hi: 1 });
const gate = (T: number, lo: number, hi: number): Input => ({ shape: [B, T, H], lo, hi });

describe('matrix memories (gated delta rule / linear attention) on cpu and sim', () => {
  const T = 11;
  const DK = 4;
  const DV = 3;
  const cases = [
    ['GatedDeltaMemory fused (delta rule kernel)', GatedDeltaMemory, 'fused'],
    ['LinearMemory fused (linear attention kernel)', LinearMemory, 'fused'],
    ['GatedDeltaMemory loop (composite)', GatedDeltaMemory, 'loop'],
  ] as const;
  it.each(cases)('%s: outputs, state and every gradient equal, zero downloads', (_n, Ctor, impl) => {
    sameOnSim(
      () => new Ctor({ heads: H, dk: DK, dv: DV, impl, chunkSize: 4 }),
      [seq(T, DK), seq(T, DK), seq(T, DV), gate(T, 0.8, 1), gate(T, 0.1, 0.9)],
      (m, [q, k, v, alpha, beta]) => {
        const o1 = m.forward(q!, k!, v!, { alpha: alpha!, beta: beta! });
        const o2 = m.forward(q!, k!, v!); // carried state, default gates
        const s = m.state!.m!;
        backprop([o1, o2, s]);
        return [o1, o2, s];
      },
    );
  });
});

describe('Titans MLP memory on cpu and sim', () => {
  const T = 11; // chunk 4 from token 0: two fused chunks, a 3-token tail on the loop
  const D = 4;
  it.each(['fused', 'loop'] as const)(
    'impl %s: outputs, state and every gradient equal, zero downloads',
    (impl) => {
      sameOnSim(
        () => new TitansMemory({ heads: H, dk: D, dv: D, hidden: 3, chunkSize: 4, impl, initStd: 0.3 }),
        [seq(T, D), seq(T, D), seq(T, D), gate(T, 0, 0.2), gate(T, 0, 0.9), gate(T, 0, 0.1)],
        (m, [q, k, v, theta, eta, alpha]) => {
          const o = m.forward(q!, k!, v!, { theta: theta!, eta: eta!, alpha: alpha! });
          const st = m.state!;
          const fin = [st.w1!, st.w2!, st.s1!, st.s2!];
          backprop([o, ...fin]);
          return [o, ...fin];
        },
      );
    },
  );
});

describe('SelfModifyingTitans on cpu and sim', () => {
  const T = 9;
  const D = 3;
  it.each([
    ['fused', false],
    ['chunked', false],
    ['fused', true],
    ['loop', false],
  ] as const)(
    'impl %s (adaptiveQ %s): outputs, state and every gradient equal, zero downloads',
    (impl, adaptiveQ) => {
      sameOnSim(
        () =>
        new SelfModifyingTitans({ heads: H, dim: D, hidden: 2, chunkMem: 4, chunkOther: 2, impl, adaptiveQ, initStd: 0.3 }), // prettier-ignore
        adaptiveQ ? [seq(T, D)] : [seq(T, D), seq(T, D)],
        (m, [x, q]) => {
          const o1 = m.forward(x!, q ?? x!);
          const o2 = m.forward(x!, q ?? x!); // carried state, chunks continue across calls
          const live = m.liveState()!;
          const fin = Object.values(live).flatMap((s) => [s.w1, s.w2, s.s1, s.s2]);
          backprop([o1, o2, ...fin]);
          return [o1, o2, ...fin];
        },
      );
    },
  );
});

describe('ContinuumMemory (CMS) on cpu and sim', () => {
  const D = 3;
  it.each(['sequential', 'independent', 'nested'] as const)(
    '%s: forward, backward and observe updates equal, zero downloads',
    (variant) => {
      sameOnSim(
        () =>
          new ContinuumMemory({
            dim: D,
            hidden: 4,
            variant,
            levels: [
              { chunkSize: 2, lr: 0.1 },
              { chunkSize: 4, lr: 0.05 },
            ],
            initStd: 0.3,
          }),
        [
          { shape: [B, 6, D], lo: -1, hi: 1 },
          { shape: [B, 6, D], lo: -1, hi: 1 },
        ],
        (m, [x1, x2]) => {
          const y1 = m.forward(x1!, { probes: true });
          backprop([y1]);
          m.observeGrads(); // error signals from the probes, applied on the device
          const y2 = m.forward(x2!, { probes: true });
          backprop([y2]);
          m.observeGrads();
          m.flush();
          const deltas = [0, 1].flatMap((l) => [m.delta(l).w1, m.delta(l).w2]);
          expect(m.updates.some((u) => u > 0)).toBe(true);
          return [y1, y2, ...deltas];
        },
      );
    },
  );
});

describe('host reads are opt-in', () => {
  it('setDebugChecks(true) reads every gate to the host (counted as downloads); off by default', () => {
    const T = 5;
    const build = () => new GatedDeltaMemory({ heads: H, dk: 3, dv: 3, impl: 'fused' });
    const inputs = [seq(T, 3), seq(T, 3), seq(T, 3), gate(T, 0.8, 1), gate(T, 0.1, 0.9)];
    const step = (m: GatedDeltaMemory, [q, k, v, alpha, beta]: Tensor[]) => [
      m.forward(q!, k!, v!, { alpha: alpha!, beta: beta! }),
    ];
    expect(run('sim', build, inputs, step).downloads).toBe(0);
    const prev = setDebugChecks(true);
    try {
      expect(run('sim', build, inputs, step).downloads).toBe(2); // alpha and beta
    } finally {
      setDebugChecks(prev);
    }
  });
});
