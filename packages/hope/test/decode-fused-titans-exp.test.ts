/**
 * The float32 sigmoid / SiLU of native.decodeTitansBlock run on a branch-free exp
 * (native/src/cpu/decode_vec.h exp_fast); the float64 call keeps std::exp. This test feeds both
 * dtypes the same (float32-exact) operands with extreme pre-activations and diffs the float32
 * outputs against the float64 ones, which serve as the reference:
 *   - the conv SiLU: channels whose qkv row is zero and whose conv taps are [1, 0, 0, 0] see
 *     exactly their conv-cache value, set to ±80, ±87, ±88.5, ±100, ±1e4 (beyond expf's range);
 *   - the θ / η / α sigmoids: zero gate rows and biases ±80 .. ±1e4, so the gates are exactly
 *     max · sigmoid(b) (0 or max at the extremes);
 *   - the memory MLP's sigmoid(p) and SiLU(W2 q) with large memory weights (|p| past 100);
 *   - the output gate's SiLU with one-hot norm1 and gate weights ±1e4;
 *   - NaN: a NaN conv-cache value or gate bias gives NaN where the float64 call does, and nowhere else.
 */
import { native } from '@nl/native';
import { describe, expect, it } from 'vitest';

const D = 16;
const H = 2;
const M = 4;
const F = 8;
const K = 4;
const N = 3; // tokens: with K = 4, token i reads conv-cache row i through tap 0
const dims = {
  tokens: N, d: D, heads: H, hidden: F, memoryHidden: M, window: K, chunkSize: 16, position: 0,
  eps: 1e-6, thetaMax: 0.5, etaMax: 0.9, alphaMax: 0.2,
}; // prettier-ignore
const EXTREMES = [80, -80, 87, -87, 88.5, -88.5, 100, -100, 1e4, -1e4, 0.5, -0.5];

type Arrays = Parameters<typeof native.decodeTitansBlock>[0];
type Named = Record<keyof Arrays, Float32Array>;

function rng(seed: number): (scale: number) => number {
  let s = seed;
  return (scale) => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 2 * scale;
}

/** Float32 operands with the extreme pre-activations described above. */
function operands(seed: number, memScale: number): Named {
  const r = rng(seed);
  const fill = (n: number, scale: number) => Float32Array.from({ length: n }, () => r(scale));
  const a: Named = {
    x: new Float32Array(N * D).fill(1), // constant rows: RMSNorm1(x) = norm1 (up to ε)
    norm1: new Float32Array(D).fill(0),
    wQkv: fill(3 * D * D, 0.5), conv: fill(3 * D * K, 0.5),
    wTheta: fill(H * D, 0.5), bTheta: fill(H, 1), wEta: fill(H * D, 0.5), bEta: fill(H, 1),
    wAlpha: fill(H * D, 0.5), bAlpha: fill(H, 1), outNorm: fill(D / H, 1), wGateOut: fill(D * D, 0.5),
    wOut: fill(D * D, 0.5), norm2: fill(D, 1), wGate: fill(F * D, 0.5), wUp: fill(F * D, 0.5),
    wDown: fill(D * F, 0.5), convCache: fill((K - 1) * 3 * D, 1), memory: fill(6 * D * M, memScale),
  }; // prettier-ignore
  a.norm1[0] = 1; // h = e_0: h Wᵀ is W's first column
  a.memory.copyWithin(4 * D * M, 0, 2 * D * M); // anchors a1, a2 = w1, w2
  for (let ch = 0; ch < 3 * D; ch += 2) {
    // even channels: pre-activation = conv-cache row i exactly
    a.wQkv.fill(0, ch * D, (ch + 1) * D);
    a.conv.fill(0, ch * K, (ch + 1) * K);
    a.conv[ch * K] = 1;
    for (let i = 0; i < K - 1; i++)
      a.convCache[i * 3 * D + ch] = EXTREMES[(ch / 2 + 5 * i) % EXTREMES.length]!;
  }
  for (let o = 0; o < D; o += 3) a.wGateOut[o * D] = EXTREMES[o % EXTREMES.length]!; // output gate ±1e4 ..
  return a;
}

/** The gate rows zeroed, biases b: θ, η, α = max · sigmoid(b). */
function setGates(a: Named, b: number[]): void {
  for (const w of [a.wTheta, a.wEta, a.wAlpha]) w.fill(0);
  a.bTheta.set([b[0]!, b[1]!]);
  a.bEta.set([b[1]!, b[0]!]);
  a.bAlpha.set([b[0]!, -b[1]!]);
}

/** Runs the block in float32 and in float64 on the same operands; returns both outputs. */
function both(a: Named): { f32: Float32Array[]; f64: Float64Array[] } {
  const a64 = Object.fromEntries(
    Object.entries(a).map(([k, v]) => [k, Float64Array.from(v)]),
  ) as unknown as Arrays;
  const a32 = Object.fromEntries(
    Object.entries(a).map(([k, v]) => [k, Float32Array.from(v)]),
  ) as unknown as Arrays;
  native.decodeTitansBlock(a32, dims);
  native.decodeTitansBlock(a64, dims);
  const out = ['x', 'convCache', 'memory'] as const;
  return { f32: out.map((k) => a32[k] as Float32Array), f64: out.map((k) => a64[k] as Float64Array) };
}

/** Largest |a − b| over the finite entries, relative to the largest |b|; NaN patterns must agree. */
function relDiff(a: Float32Array, b: Float64Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    expect(Number.isNaN(a[i]!), `entry ${i}: ${a[i]} vs ${b[i]}`).toBe(Number.isNaN(b[i]!));
    if (Number.isNaN(b[i]!)) continue;
    expect(a[i]! === b[i]! || Number.isFinite(a[i]!), `entry ${i}: ${a[i]} vs ${b[i]}`).toBe(true);
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / Math.max(scale, 1e-30);
}

describe('native.decodeTitansBlock float32 exp_fast: sigmoid / SiLU at extreme pre-activations', () => {
  it('matches the float64 (std::exp) call for gate biases and conv inputs from ±0.5 to ±1e4', () => {
    for (const memScale of [0.5, 60]) {
      for (let g = 0; g < EXTREMES.length; g += 2) {
        const a = operands(7 + g, memScale);
        setGates(a, [EXTREMES[g]!, EXTREMES[g + 1]! * 0.5 + EXTREMES[(g + 3) % EXTREMES.length]!]);
        const { f32, f64 } = both(a);
        f32.forEach((v, i) => expect(relDiff(v, f64[i]!), `memScale ${memScale}, gates ${g}, output ${i}`).toBeLessThan(2e-5)); // prettier-ignore
        expect(f64[0]!.every(Number.isFinite)).toBe(true);
        expect(f64[2]!.some((v, i) => v !== a.memory[i])).toBe(true); // the memory was written
      }
    }
  });

  it('the saturated gates are exactly their limits: bias ±1e4 equals bias ±200', () => {
    const run = (b: number) => {
      const a = operands(3, 0.5);
      setGates(a, [b, -b]);
      return both(a).f32;
    };
    const [far, near] = [run(1e4), run(200)];
    far.forEach((v, i) => expect(Array.from(v)).toEqual(Array.from(near[i]!)));
  });

  it('NaN in a conv input or a gate bias gives NaN where std::exp does', () => {
    const a = operands(11, 0.5);
    a.convCache[2] = Number.NaN; // token 0, channel 2 (a q channel of head 0)
    const c = both(a);
    c.f32.forEach((v, i) => relDiff(v, c.f64[i]!)); // NaN patterns agree
    expect(c.f64[0]!.some(Number.isNaN)).toBe(true);
    const b = operands(12, 0.5);
    setGates(b, [Number.NaN, 3]);
    const d = both(b);
    d.f32.forEach((v, i) => relDiff(v, d.f64[i]!));
    expect(d.f64[2]!.some(Number.isNaN)).toBe(true);
    expect(d.f64[2]!.some(Number.isFinite)).toBe(true); // head 1's memory stays finite
  });
});
