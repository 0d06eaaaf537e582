/**
 * TitansMemory inner-gradient clipping (`innerGradClip`): each token's inner gradient (e aᵀ, g kᵀ),
 * taken at the chunk-start weights, is scaled by s = c / max(‖(e aᵀ, g kᵀ)‖_F, c). Checked in
 * float64 against plain loops (a whole chunk's writes, impl 'loop' and 'fused'), by finite
 * differences of the outer gradient through s, by the linear growth bound the clip guarantees
 * (‖W_t‖_F ≤ ‖W_0‖_F + t θ c / (1 − η), per batch row and head, which an unclipped run breaks), and
 * the errors; on the simulated device (fused chunks plus a loop tail, no α gate: the tail used to
 * mix a CPU scalar into sim tensors). fused == loop with the clip, gradients included:
 * fused-titans.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { manualSeed, mul, tensor, type Tensor } from '@nl/tensor';
import { enableSimDevice, resetSimTransfers, simTransfers } from '@nl/tensor/testing';
import { TitansMemory } from '../../src/index.js';
import { maxDiff, randArr, rng, t64 } from './helpers.js';

const H = 2,
  D = 3,
  DH = 4;
const silu = (x: number): number => x / (1 + Math.exp(-x));
const dsilu = (x: number): number => {
  const s = 1 / (1 + Math.exp(-x));
  return s * (1 + x * (1 - s));
};
const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/** Per head, ‖(W1, W2)‖_F of w1 [.., H, D, DH] and w2 [.., H, DH, D] (batch 1). */
function headNorms(w1: ArrayLike<number>, w2: ArrayLike<number>): number[] {
  const sq = (a: ArrayLike<number>, lo: number, hi: number) => {
    let s = 0;
    for (let i = lo; i < hi; i++) s += a[i]! * a[i]!;
    return s;
  };
  return Array.from({ length: H }, (_, h) =>
    Math.sqrt(sq(w1, h * D * DH, (h + 1) * D * DH) + sq(w2, h * DH * D, (h + 1) * DH * D)),
  );
}

function memory(impl: 'loop' | 'fused', chunkSize: number, clip: number, w1: Float64Array, w2: Float64Array) {
  const m = new TitansMemory({ heads: H, dk: D, dv: D, hidden: DH, chunkSize, impl, innerGradClip: clip, dtype: 'float64' }); // prettier-ignore
  m.replaceParameter('w1', t64(w1, [H, D, DH], true));
  m.replaceParameter('w2', t64(w2, [H, DH, D], true));
  return m;
}

describe('TitansMemory innerGradClip', () => {
  it("one chunk's writes = plain loops with s = c / max(‖(e aᵀ, g kᵀ)‖_F, c) (loop and fused)", () => {
    const C = 4,
      clip = 0.05;
    const r = rng(7);
    const w1 = randArr(r, H * D * DH, -0.5, 0.5);
    const w2 = randArr(r, H * DH * D, -0.5, 0.5);
    const k = randArr(r, C * H * D);
    const v = randArr(r, C * H * D);
    const th = randArr(r, C * H, 0.1, 0.5);
    const et = randArr(r, C * H, 0, 0.9);
    const al = randArr(r, C * H, 0, 0.2);
    // reference: per head, gradients at W0 for every token, momentum and forgetting in order
    const want1 = new Float64Array(H * D * DH);
    const want2 = new Float64Array(H * DH * D);
    let clipped = 0;
    for (let h = 0; h < H; h++) {
      const W1 = Array.from({ length: D * DH }, (_, i) => w1[h * D * DH + i]!); // [D][DH]
      const W2 = Array.from({ length: DH * D }, (_, i) => w2[h * DH * D + i]!); // [DH][D]
      const A1 = W1.slice(),
        A2 = W2.slice(); // chunk-start anchors
      const S1 = new Array<number>(D * DH).fill(0),
        S2 = new Array<number>(DH * D).fill(0);
      for (let t = 0; t < C; t++) {
        const kt = Array.from({ length: D }, (_, i) => k[(t * H + h) * D + i]!);
        const vt = Array.from({ length: D }, (_, i) => v[(t * H + h) * D + i]!);
        const p = Array.from({ length: DH }, (_, j) => dot(A2.slice(j * D, j * D + D), kt));
        const a = p.map(silu);
        const e = kt.map((ki, i) => ki + dot(A1.slice(i * DH, i * DH + DH), a) - vt[i]!);
        const g = p.map((pj, j) => dsilu(pj) * e.reduce((s, ei, i) => s + ei * A1[i * DH + j]!, 0));
        const norm = Math.sqrt(dot(e, e) * dot(a, a) + dot(g, g) * dot(kt, kt));
        const s = clip / Math.max(norm, clip);
        if (s < 0.9) clipped++;
        const [theta, eta, keep] = [th[t * H + h]!, et[t * H + h]!, 1 - al[t * H + h]!];
        for (let i = 0; i < D; i++)
          for (let j = 0; j < DH; j++) {
            S1[i * DH + j] = eta * S1[i * DH + j]! - theta * s * e[i]! * a[j]!;
            W1[i * DH + j] = keep * W1[i * DH + j]! + S1[i * DH + j]!;
            S2[j * D + i] = eta * S2[j * D + i]! - theta * s * g[j]! * kt[i]!;
            W2[j * D + i] = keep * W2[j * D + i]! + S2[j * D + i]!;
          }
      }
      want1.set(W1, h * D * DH);
      want2.set(W2, h * DH * D);
    }
    expect(clipped, 'the clip must act on some tokens').toBeGreaterThan(2);
    for (const impl of ['loop', 'fused'] as const) {
      const m = memory(impl, C, clip, w1, w2);
      const q = t64(randArr(r, C * H * D), [1, C, H, D]);
      m.forward(q, t64(k, [1, C, H, D]), t64(v, [1, C, H, D]), {
        theta: t64(th, [1, C, H]),
        eta: t64(et, [1, C, H]),
        alpha: t64(al, [1, C, H]),
      });
      expect(maxDiff(m.state!.w1!.dataSync(), want1), `${impl} W1`).toBeLessThan(1e-13);
      expect(maxDiff(m.state!.w2!.dataSync(), want2), `${impl} W2`).toBeLessThan(1e-13);
    }
  });

  it('outer gradients through the clip match finite differences (θ, v, W1 init)', () => {
    const r = rng(11);
    const T = 6,
      C = 3,
      clip = 0.05;
    const w1 = randArr(r, H * D * DH, -0.5, 0.5);
    const w2 = randArr(r, H * DH * D, -0.5, 0.5);
    const x = { q: randArr(r, T * H * D), k: randArr(r, T * H * D), v: randArr(r, T * H * D) };
    const th = randArr(r, T * H, 0.1, 0.5);
    const wts = randArr(r, T * H * D);
    for (const impl of ['loop', 'fused'] as const) {
      const loss = (thA: Float64Array, vA: Float64Array, w1A: Float64Array, grad: boolean) => {
        const m = memory(impl, C, clip, w1A, w2);
        const theta = t64(thA, [1, T, H], grad);
        const v = t64(vA, [1, T, H, D], grad);
        const o = m.forward(t64(x.q, [1, T, H, D]), t64(x.k, [1, T, H, D]), v, { theta });
        const l: Tensor = mul(o, t64(wts, [1, T, H, D])).sum();
        if (grad) l.backward();
        return {
          l: l.item(),
          dTheta: theta.grad?.dataSync(),
          dV: v.grad?.dataSync(),
          dW1: m.w1.grad?.dataSync(),
        };
      };
      const g = loss(th, x.v, w1, true);
      const fd = (arr: Float64Array, i: number, f: (a: Float64Array) => number) => {
        const eps = 1e-6;
        const p = arr.slice();
        p[i]! += eps;
        const m = arr.slice();
        m[i]! -= eps;
        return (f(p) - f(m)) / (2 * eps);
      };
      for (const i of [0, 5, 11]) {
        const n = fd(th, i, (a) => loss(a, x.v, w1, false).l);
        expect(Math.abs(n - g.dTheta![i]!), `${impl} dθ[${i}]`).toBeLessThan(1e-7 * (1 + Math.abs(n)));
      }
      for (const i of [1, 17, 30]) {
        const n = fd(x.v, i, (a) => loss(th, a, w1, false).l);
        expect(Math.abs(n - g.dV![i]!), `${impl} dv[${i}]`).toBeLessThan(1e-7 * (1 + Math.abs(n)));
      }
      for (const i of [2, 13]) {
        const n = fd(w1, i, (a) => loss(th, x.v, a, false).l);
        expect(Math.abs(n - g.dW1![i]!), `${impl} dW1[${i}]`).toBeLessThan(1e-7 * (1 + Math.abs(n)));
      }
    }
  });

  it('bounds the fast weights to linear growth; without the clip they outgrow the bound', () => {
    const T = 96,
      C = 4,
      clip = 0.1,
      theta = 0.5,
      eta = 0.9;
    const r = rng(5);
    const w1 = randArr(r, H * D * DH, -1, 1);
    const w2 = randArr(r, H * DH * D, -1, 1);
    const k = randArr(r, T * H * D);
    const v = randArr(r, T * H * D, -20, 20); // large targets: large inner gradients
    const run = (c: number) => {
      const m = memory('fused', C, c, w1, w2);
      const g = (val: number) => t64(new Float64Array(T * H).fill(val), [1, T, H]);
      m.forward(t64(k, [1, T, H, D]), t64(k, [1, T, H, D]), t64(v, [1, T, H, D]), {
        theta: g(theta),
        eta: g(eta),
        alpha: g(0),
      });
      return headNorms(m.state!.w1!.dataSync(), m.state!.w2!.dataSync());
    };
    const w0 = headNorms(w1, w2);
    const bound = w0.map((n) => n + (T * theta * clip) / (1 - eta));
    const clipped = run(clip);
    clipped.forEach((n, h) => expect(n, `head ${h}`).toBeLessThanOrEqual(bound[h]!));
    const free = run(0);
    expect(
      free.some((n, h) => !(n <= bound[h]!)),
      `unclipped ${free} vs bound ${bound}`,
    ).toBe(true);
  });

  it("runs on the simulated device: 'fused' with the clip on 'sim' equals the CPU, with no downloads", () => {
    enableSimDevice();
    const run = (device: 'cpu' | 'sim') => {
      manualSeed(4);
      const m = new TitansMemory({ heads: H, dk: D, dv: D, hidden: DH, chunkSize: 4, impl: 'fused', innerGradClip: 0.05 }); // prettier-ignore
      m.to(device);
      const data = Float32Array.from(randArr(rng(9), 2 * 10 * H * D));
      const x = tensor(data, { shape: [2, 10, H, D], device, requiresGrad: true });
      const theta = tensor(new Float32Array(2 * 10 * H).fill(0.4), { shape: [2, 10, H], device });
      if (device === 'sim') resetSimTransfers();
      const o = m.forward(x, x, mul(x, 3), { theta });
      mul(o, o).sum().backward();
      const downloads = device === 'sim' ? simTransfers().downloads : 0;
      return { downloads, o: o.to('cpu').dataSync(), gx: x.grad!.to('cpu').dataSync(), gw: m.w1.grad!.to('cpu').dataSync() }; // prettier-ignore
    };
    const cpu = run('cpu');
    const sim = run('sim');
    expect(sim.downloads).toBe(0);
    expect(maxDiff(cpu.o, sim.o)).toBeLessThan(1e-5);
    expect(maxDiff(cpu.gx, sim.gx)).toBeLessThan(1e-4);
    expect(maxDiff(cpu.gw, sim.gw)).toBeLessThan(1e-4);
  });

  it('refuses a bad clip by name', () => {
    for (const bad of [-1, Number.NaN, '1'])
      expect(
        () => new TitansMemory({ heads: 1, dk: 2, dv: 2, innerGradClip: bad as number }),
        String(bad),
      ).toThrow(/TitansMemory: innerGradClip must be a finite number >= 0/);
  });
});
