/**
 * @nl/optim without the addon (a user on a platform with no binary): NL_NATIVE_DISABLE=1 makes
 * @nl/native's load fail on import. Every plain-array optimizer must still import and step, and
 * land where the native path lands (Newton–Schulz and delta momentum compute in float64 in JS and
 * in float32 / float64 natively, so those agree to a tolerance).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

type Optim = typeof import('../src/index.js');
type Param = ReturnType<Optim['paramFromArrays']>;
type MakeOptimizer = (o: Optim, p: Param) => { step(): void };

/** A fresh module graph of @nl/optim (and @nl/native, @nl/tensor) with or without the addon. */
async function loadOptim(withNative: boolean): Promise<Optim> {
  vi.resetModules();
  vi.stubEnv('NL_NATIVE_DISABLE', withNative ? '0' : '1');
  const nat = await import('@nl/native');
  expect(nat.hasNative()).toBe(withNative);
  return import('../src/index.js');
}

afterEach(() => vi.unstubAllEnvs());

const SHAPE = [6, 4]; // [rows, cols]; Muon / M3 / delta momentum treat it as a matrix
const N = SHAPE[0]! * SHAPE[1]!;

/** Runs `steps` steps on f(w) = Σ (w - target)² + 0.1 Σ w⁴ starting from a fixed w. */
function train(o: Optim, make: MakeOptimizer, steps = 12): Float32Array {
  const w = new Float32Array(N);
  for (let i = 0; i < N; i++) w[i] = Math.sin(i + 1);
  const g = new Float32Array(N);
  const opt = make(o, o.paramFromArrays(w, g, SHAPE));
  for (let t = 0; t < steps; t++) {
    for (let i = 0; i < N; i++) g[i] = 2 * (w[i]! - 0.1 * i) + 0.4 * w[i]! ** 3;
    opt.step();
  }
  return w;
}

const CASES: [string, MakeOptimizer, number][] = [
  ['SGD (momentum, nesterov)', (o, p) => new o.SGD([p], { lr: 0.05, momentum: 0.9, nesterov: true }), 0],
  ['Adam', (o, p) => new o.Adam([p], { lr: 0.05 }), 0],
  ['AdamW fused (native kernel / JS loop)', (o, p) => new o.AdamW([p], { lr: 0.05, fused: true }), 1e-6],
  ['Muon (Newton–Schulz)', (o, p) => new o.Muon([p], { lr: 0.05 }), 1e-4],
  ['DeltaMomentum', (o, p) => new o.DeltaMomentum([p], { lr: 0.05 }), 1e-6],
  ['M3', (o, p) => new o.M3([p], { lr: 0.05, frequency: 3 }), 1e-4],
  ['PreconditionedMomentum', (o, p) => new o.PreconditionedMomentum([p], { lr: 0.05 }), 0],
  ['DMGD', (o, p) => new o.DMGD([p], { lr: 0.05, hidden: 4 }), 1e-5],
];

describe('@nl/optim with the addon missing', () => {
  it('imports, and says why native entry points are unavailable', async () => {
    const o = await loadOptim(false);
    const nat = await import('@nl/native');
    expect(nat.nativeLoadError?.message).toMatch(/NL_NATIVE_DISABLE/);
    expect(() => nat.native.info()).toThrow(/addon is disabled.*native\.info/);
    expect(typeof o.Muon).toBe('function');
  });

  for (const [name, make, tol] of CASES)
    it(`${name}: steps in pure JS and matches the native path`, async () => {
      const withNative = train(await loadOptim(true), make);
      const pure = train(await loadOptim(false), make);
      const start = Float32Array.from({ length: N }, (_, i) => Math.sin(i + 1));
      let moved = 0;
      for (let i = 0; i < N; i++) {
        expect(Number.isFinite(pure[i]!)).toBe(true);
        moved = Math.max(moved, Math.abs(pure[i]! - start[i]!));
        if (tol === 0) expect(pure[i]).toBe(withNative[i]);
        else
          expect(Math.abs(pure[i]! - withNative[i]!)).toBeLessThanOrEqual(
            tol * (1 + Math.abs(withNative[i]!)),
          );
      }
      expect(moved).toBeGreaterThan(0.01);
    });

  it('newtonSchulz (batched) equals the float64 reference per matrix without the addon', async () => {
    const o = await loadOptim(false);
    const g = Float64Array.from({ length: 2 * 3 * 5 }, (_, i) => Math.cos(i * 0.7));
    const out = o.newtonSchulz(g, 3, 5, { batch: 2 }) as Float64Array;
    for (let b = 0; b < 2; b++) {
      const ref = o.newtonSchulzRef(g.subarray(b * 15, (b + 1) * 15), 3, 5);
      for (let i = 0; i < 15; i++) expect(out[b * 15 + i]).toBe(ref[i]);
    }
  });

  it('clipArrays rescales plain gradients without the addon', async () => {
    const o = await loadOptim(false);
    const g = new Float32Array([3, 4]);
    expect(o.clipArrays([g], 1)).toBeCloseTo(5, 6);
    expect(Math.hypot(g[0]!, g[1]!)).toBeCloseTo(1, 5);
  });
});
