import { describe, expect, it } from 'vitest';
import { axpy, cudaAxpy, info, isCudaAvailable, native, numThreads, setNumThreads } from '@nl/native';

/** Deterministic pseudo-random numbers in [-1, 1) (mulberry32), independent of the addon. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

function randomArray<C extends Float32ArrayConstructor | Float64ArrayConstructor>(
  Ctor: C,
  n: number,
  r: () => number,
): InstanceType<C> {
  const out = new Ctor(n) as InstanceType<C>;
  for (let i = 0; i < n; i++) out[i] = r();
  return out;
}

describe('info()', () => {
  it('reports version, SIMD level, threads and CUDA status', () => {
    const i = info();
    expect(i.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(['avx512', 'avx2', 'avx', 'sse4.2', 'sse2', 'neon', 'scalar']).toContain(i.simd);
    expect(i.threads).toBeGreaterThanOrEqual(1);
    expect(i.hardwareThreads).toBeGreaterThanOrEqual(1);
    expect(typeof i.cuda.compiled).toBe('boolean');
    expect(Array.isArray(i.cuda.devices)).toBe(true);
    if (i.cuda.devices.length === 0) {
      // No device: the runtime's reason is reported.
      expect(typeof i.cuda.error).toBe('string');
      expect(i.cuda.error!.length).toBeGreaterThan(0);
      expect(isCudaAvailable()).toBe(false);
    } else {
      expect(i.cuda.compiled).toBe(true);
      expect(i.cuda.devices[0].name.length).toBeGreaterThan(0);
    }
  });

  it('setNumThreads resizes the pool and 0 restores the default', () => {
    const before = numThreads();
    expect(setNumThreads(1)).toBe(1);
    expect(info().threads).toBe(1);
    expect(setNumThreads(3)).toBe(3);
    expect(setNumThreads(0)).toBe(before);
    expect(() => setNumThreads(-1)).toThrow(/nl\.setNumThreads: n must be a non-negative integer/);
  });
});

describe('axpy (CPU) matches a JS reference', () => {
  const r = rng(42);
  const sizes = [0, 1, 2, 3, 7, 17, 255, 1023, 4097, 40_001, 100_003];
  for (const Ctor of [Float32Array, Float64Array] as const) {
    for (const n of sizes) {
      it(`${Ctor.name} n=${n}`, () => {
        const a = r() * 3;
        const x = randomArray(Ctor, n, r);
        const y = randomArray(Ctor, n, r);
        const expected = new Float64Array(n);
        for (let i = 0; i < n; i++)
          expected[i] = Ctor === Float32Array ? Math.fround(Math.fround(a) * x[i]) + y[i] : a * x[i] + y[i];
        axpy(a, x, y);
        for (let i = 0; i < n; i++) {
          // float32 may fuse the multiply-add (one rounding instead of two)
          const tol =
            Ctor === Float32Array ? 1e-6 * (1 + Math.abs(expected[i])) : 1e-15 * (1 + Math.abs(expected[i]));
          if (Math.abs(y[i] - expected[i]) > tol)
            throw new Error(`mismatch at ${i}: ${y[i]} vs ${expected[i]}`);
        }
      });
    }
  }

  it('works across thread counts', () => {
    const x = randomArray(Float64Array, 50_000, r);
    const y1 = randomArray(Float64Array, 50_000, r);
    const y2 = y1.slice();
    setNumThreads(1);
    axpy(0.5, x, y1);
    setNumThreads(4);
    axpy(0.5, x, y2);
    setNumThreads(0);
    expect(y1).toEqual(y2);
  });
});

describe('axpy: bad arguments give clear errors', () => {
  it('length mismatch names both lengths', () => {
    expect(() => axpy(1, new Float32Array(3), new Float32Array(4))).toThrow(
      /nl\.axpy: x and y must have the same length, got 3 and 4/,
    );
  });
  it('dtype mismatch names both dtypes', () => {
    expect(() => axpy(1, new Float32Array(3), new Float64Array(3) as never)).toThrow(
      /nl\.axpy: x and y must have the same dtype, got Float32Array and Float64Array/,
    );
  });
  it('non-array and non-number arguments', () => {
    expect(() => axpy(1, [1, 2, 3] as never, new Float32Array(3))).toThrow(
      /nl\.axpy: x must be a typed array/,
    );
    expect(() => axpy('2' as never, new Float32Array(3), new Float32Array(3))).toThrow(
      /nl\.axpy: a must be a number/,
    );
    expect(() => native.axpy(1, new Float32Array(1) as never, undefined as never)).toThrow(
      /nl\.axpy: y must be a typed array/,
    );
    expect(() => (native.axpy as (...a: unknown[]) => void)(1)).toThrow(
      /nl\.axpy: expected 3 arguments, got 1/,
    );
  });
  it('int arrays are refused', () => {
    expect(() => axpy(1, new Int32Array(2) as never, new Int32Array(2) as never)).toThrow(
      /Float32Array or Float64Array/,
    );
  });
});

describe('cudaAxpy', () => {
  it.skipIf(!isCudaAvailable())('matches the CPU kernel on a CUDA device', () => {
    const r = rng(7);
    for (const n of [0, 1, 31, 1000, 1_000_003]) {
      const x = randomArray(Float32Array, n, r);
      const y = randomArray(Float32Array, n, r);
      const yCpu = y.slice();
      cudaAxpy(1.5, x, y);
      axpy(1.5, x, yCpu);
      for (let i = 0; i < n; i++)
        expect(Math.abs(y[i] - yCpu[i])).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(yCpu[i])));
    }
  });
  it.skipIf(isCudaAvailable())('without a usable GPU throws a JS error with the reason (no crash)', () => {
    const reason = info().cuda.error!;
    expect(() => cudaAxpy(1, new Float32Array(4), new Float32Array(4))).toThrow(/^nl\.cudaAxpy: /);
    try {
      cudaAxpy(1, new Float32Array(4), new Float32Array(4));
    } catch (e) {
      expect(String((e as Error).message)).toMatch(/CUDA|cuda/);
      expect(reason.length).toBeGreaterThan(0);
    }
  });
});
