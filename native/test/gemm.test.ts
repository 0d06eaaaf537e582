/**
 * GEMM tests: the fast blocked kernel (`native.gemm`, cpu/gemm.cc) and the plain loop
 * (`native.gemmRef`, cpu/gemm_ref.cc) against an independent float64 loop in JS, and against each
 * other, over every transpose, sizes around the tile and cache-block edges (MR = 6, NR = 64/32,
 * KC = 512/256, MC = 144/72, NC = 4096/2048 for f32/f64 on AVX-512), strided and offset operands,
 * batches with broadcast operands, alpha/beta, NaN in C with beta = 0, and 1, 2 or 3 threads.
 *
 * Tolerance: the forward error bound of a k-term dot product, (k + 4) * u * sum |alpha a b|
 * (+ the beta term), with u the unit roundoff of the dtype — no test can pass by a wrong sum.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { gemm, info, native, setNumThreads, type FloatArray } from '@nl/native';

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

type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;

function randomArray(C: Ctor, n: number, r: () => number): FloatArray {
  const out = new C(n);
  for (let i = 0; i < n; i++) out[i] = r();
  return out;
}

/** Every argument of `native.gemm`, by name. */
interface Call {
  tA: boolean;
  tB: boolean;
  m: number;
  n: number;
  k: number;
  alpha: number;
  a: FloatArray;
  aOff: number;
  lda: number;
  sA: number;
  b: FloatArray;
  bOff: number;
  ldb: number;
  sB: number;
  beta: number;
  c: FloatArray;
  cOff: number;
  ldc: number;
  sC: number;
  batch: number;
}

type GemmFn = typeof native.gemm;

function invoke(f: GemmFn, x: Call, c: FloatArray): void {
  f(
    x.tA,
    x.tB,
    x.m,
    x.n,
    x.k,
    x.alpha,
    x.a,
    x.aOff,
    x.lda,
    x.sA,
    x.b,
    x.bOff,
    x.ldb,
    x.sB,
    x.beta,
    c,
    x.cOff,
    x.ldc,
    x.sC,
    x.batch,
  );
}

/**
 * Independent float64 reference over the full strided layout. Returns the expected contents of
 * the whole c array (untouched elements keep their value) and a per-element error bound.
 */
function reference(x: Call): { want: Float64Array; tol: Float64Array } {
  const u = x.c instanceof Float32Array ? 2 ** -24 : 2 ** -53;
  const want = Float64Array.from(x.c);
  const tol = new Float64Array(x.c.length);
  for (let bi = 0; bi < x.batch; bi++) {
    const A = x.aOff + bi * x.sA,
      B = x.bOff + bi * x.sB,
      C = x.cOff + bi * x.sC;
    for (let i = 0; i < x.m; i++)
      for (let j = 0; j < x.n; j++) {
        let s = 0,
          abs = 0;
        for (let p = 0; p < x.k; p++) {
          const av = x.a[A + (x.tA ? p * x.lda + i : i * x.lda + p)];
          const bv = x.b[B + (x.tB ? j * x.ldb + p : p * x.ldb + j)];
          s += av * bv;
          abs += Math.abs(av * bv);
        }
        const ci = C + i * x.ldc + j;
        const old = x.c[ci];
        want[ci] = x.alpha * s + (x.beta === 0 ? 0 : x.beta * old);
        tol[ci] =
          (x.k + 4) * u * (Math.abs(x.alpha) * abs + (x.beta === 0 ? 0 : Math.abs(x.beta * old))) + 1e-300;
      }
  }
  return { want, tol };
}

function expectClose(name: string, got: FloatArray, want: Float64Array, tol: Float64Array): void {
  let worst = -1,
    worstRatio = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    const ok = d <= tol[i] || (Number.isNaN(want[i]) && Number.isNaN(got[i])) || got[i] === want[i];
    if (!ok && (worst < 0 || d / tol[i] > worstRatio)) {
      worst = i;
      worstRatio = d / tol[i];
    }
  }
  if (worst >= 0) {
    throw new Error(
      `${name}: c[${worst}] = ${got[worst]}, want ${want[worst]} (|diff| ${Math.abs(got[worst] - want[worst]).toExponential(2)} > tol ${tol[worst].toExponential(2)}, ${worstRatio.toExponential(1)}x)`,
    );
  }
}

/** Runs the fast kernel and the reference loop on copies of c and checks both. */
function check(x: Call): void {
  const { want, tol } = reference(x);
  const cFast = x.c.slice();
  const cRef = x.c.slice();
  invoke(native.gemm, x, cFast);
  invoke(native.gemmRef, x, cRef);
  expectClose('gemm', cFast, want, tol);
  expectClose('gemmRef', cRef, want, tol);
  // Fast vs reference loop: both within the bound of the float64 sum, so within twice it.
  expectClose(
    'gemm vs gemmRef',
    cFast,
    Float64Array.from(cRef),
    tol.map((t) => 2 * t),
  );
}

interface Case {
  m: number;
  n: number;
  k: number;
  tA?: boolean;
  tB?: boolean;
  alpha?: number;
  beta?: number;
  /** Extra columns of leading dimension beyond the minimum. */
  pad?: [number, number, number];
  /** Element offsets of a, b, c. */
  off?: [number, number, number];
  batch?: number;
  /** Broadcast a or b over the batch (stride 0). */
  broadcast?: 'a' | 'b' | 'none';
  /** Fill c with NaN before the call. */
  nanC?: boolean;
}

/** Builds a full Call (layout, random operands) for a case. */
function makeCall(C: Ctor, cs: Case, r: () => number): Call {
  const { m, n, k, tA = false, tB = false, alpha = 1, beta = 0, batch = 1, broadcast = 'none' } = cs;
  const [pa, pb, pc] = cs.pad ?? [0, 0, 0];
  const [oa, ob, oc] = cs.off ?? [0, 0, 0];
  const aRows = tA ? k : m,
    aCols = tA ? m : k,
    bRows = tB ? n : k,
    bCols = tB ? k : n;
  const lda = aCols + pa,
    ldb = bCols + pb,
    ldc = n + pc;
  const sA = broadcast === 'a' ? 0 : aRows * lda + 3;
  const sB = broadcast === 'b' ? 0 : bRows * ldb + 1;
  const sC = m * ldc + 2;
  const len = (off: number, s: number, rows: number, ld: number) => off + (batch - 1) * s + rows * ld + 5;
  const a = randomArray(C, len(oa, sA, aRows, lda), r);
  const b = randomArray(C, len(ob, sB, bRows, ldb), r);
  const c = randomArray(C, len(oc, sC, m, ldc), r);
  if (cs.nanC) c.fill(NaN);
  return {
    tA,
    tB,
    m,
    n,
    k,
    alpha,
    a,
    aOff: oa,
    lda,
    sA,
    b,
    bOff: ob,
    ldb,
    sB,
    beta,
    c,
    cOff: oc,
    ldc,
    sC,
    batch,
  };
}

const TRANSPOSES = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;

// [m, n, k]: degenerate, odd, around MR = 6, NR = 32/64, KC = 512/256 (f32/f64), MC = 144/72,
// NC = 2048/4096 (n = 4100).
const SHAPES: [number, number, number][] = [
  [0, 3, 4],
  [3, 0, 4],
  [1, 1, 1],
  [1, 7, 5],
  [7, 1, 3],
  [5, 13, 31],
  [13, 17, 19],
  [6, 64, 8],
  [31, 63, 64],
  [63, 64, 65],
  [64, 65, 63],
  [65, 33, 129],
  [127, 129, 5],
  [129, 127, 257],
  [5, 1000, 300],
  [300, 1000, 70],
  [3, 4100, 7],
  // m < MR = 6: the unpacked matrix-vector path (n and k around its vector blocks).
  [1, 300, 257],
  [2, 129, 100],
  [4, 70, 33],
  // Two f32 depth blocks (KC = 512) and four f64 ones (KC = 256).
  [20, 70, 1030],
];

for (const threads of [1, 2, 3]) {
  describe(`gemm with ${threads} thread(s)`, () => {
    afterAll(() => {
      setNumThreads(0);
    });
    const r = rng(100 + threads);

    for (const C of [Float32Array, Float64Array]) {
      for (const [m, n, k] of SHAPES) {
        for (const [tA, tB] of TRANSPOSES) {
          it(`${C.name} ${m}x${n}x${k} tA=${tA} tB=${tB}`, () => {
            setNumThreads(threads);
            const beta = tA === tB ? 0 : 0.5;
            check(makeCall(C, { m, n, k, tA, tB, alpha: 0.75, beta }, r));
          });
        }
      }

      it(`${C.name} strided operands with offsets (lda/ldb/ldc > minimum)`, () => {
        setNumThreads(threads);
        for (const [tA, tB] of TRANSPOSES)
          for (const [m, n, k] of [
            [7, 9, 11],
            [70, 130, 260],
          ] as const)
            check(
              makeCall(C, { m, n, k, tA, tB, alpha: -1.25, beta: 1, pad: [3, 17, 5], off: [11, 7, 13] }, r),
            );
      });

      it(`${C.name} alpha/beta combinations`, () => {
        setNumThreads(threads);
        for (const [alpha, beta] of [
          [1, 0],
          [1, 1],
          [0.5, -2],
          [-3, 0.25],
          [0, 2],
          [0, 0],
        ])
          check(makeCall(C, { m: 37, n: 70, k: 45, alpha, beta }, r));
      });

      it(`${C.name} k = 0 scales C by beta (and beta = 0 clears it)`, () => {
        setNumThreads(threads);
        check(makeCall(C, { m: 9, n: 70, k: 0, beta: 0.5 }, r));
        check(makeCall(C, { m: 9, n: 70, k: 0, beta: 0, nanC: true }, r));
      });

      it(`${C.name} beta = 0 never reads C (NaN in C, edge tiles, several depth blocks)`, () => {
        setNumThreads(threads);
        for (const [m, n, k] of [
          [2, 2, 2],
          [13, 70, 300],
          [150, 200, 520],
        ] as const) {
          const x = makeCall(C, { m, n, k, alpha: 0.5, beta: 0, pad: [0, 0, 3], nanC: true }, r);
          check(x);
          const c = x.c.slice();
          invoke(native.gemm, x, c);
          // Every element of C is written finite; the ldc padding keeps its NaN.
          for (let i = 0; i < m; i++)
            for (let j = 0; j < n + 3; j++) {
              const v = c[x.cOff + i * x.ldc + j];
              if (j < n) expect(Number.isFinite(v)).toBe(true);
              else expect(Number.isNaN(v)).toBe(true);
            }
        }
      });

      it(`${C.name} batched, contiguous and strided`, () => {
        setNumThreads(threads);
        for (const batch of [1, 2, 3, 5, 8])
          check(makeCall(C, { m: 19, n: 70, k: 33, batch, alpha: 1, beta: 0.5, pad: [1, 2, 3] }, r));
        // Larger products: the per-product parallel path between batch items.
        check(makeCall(C, { m: 130, n: 140, k: 260, batch: 3, beta: 1 }, r));
      });

      it(`${C.name} batched with a broadcast operand (stride 0)`, () => {
        setNumThreads(threads);
        for (const broadcast of ['a', 'b'] as const)
          for (const [tA, tB] of TRANSPOSES)
            check(makeCall(C, { m: 21, n: 66, k: 40, tA, tB, batch: 6, broadcast, alpha: 2, beta: 0 }, r));
      });
    }
  });
}

describe('gemm: thread count and repetition', () => {
  afterAll(() => {
    setNumThreads(0);
  });

  // Every element is summed in the same order whatever the split, and edge tiles round like
  // full ones, so SIMD builds give bit-identical results for any thread count.
  it.skipIf(!['avx512', 'avx2'].includes(info().simd))(
    'results are bit-identical for 1, 2 and 3 threads',
    () => {
      const r = rng(77);
      for (const C of [Float32Array, Float64Array]) {
        for (const cs of [
          { m: 131, n: 200, k: 600, beta: 0.5, alpha: 1.5 },
          { m: 5, n: 700, k: 90, beta: 1, tB: true },
          { m: 40, n: 66, k: 30, beta: -2, batch: 7, broadcast: 'b' as const },
        ]) {
          const x = makeCall(C, cs, r);
          const outs = [1, 2, 3].map((t) => {
            setNumThreads(t);
            const c = x.c.slice();
            invoke(native.gemm, x, c);
            return c;
          });
          expect(outs[1]).toEqual(outs[0]);
          expect(outs[2]).toEqual(outs[0]);
        }
      }
    },
  );

  it('thousands of back-to-back parallel products stay correct (no lost or repeated work)', () => {
    setNumThreads(2);
    const r = rng(78);
    const big = makeCall(Float64Array, { m: 40, n: 130, k: 60, beta: 1 }, r);
    const batched = makeCall(Float64Array, { m: 16, n: 20, k: 24, batch: 6, beta: 1 }, r);
    for (const x of [big, batched]) {
      // Accumulate 1000 times into C (beta = 1, float64): a lost or doubled task shows in the sum.
      const cFast = x.c.slice();
      const cRef = Float64Array.from(x.c);
      const once = reference({ ...x, c: new Float64Array(x.c.length) } as Call).want;
      for (let it = 0; it < 1000; it++) invoke(native.gemm, x, cFast);
      for (let i = 0; i < cRef.length; i++) cRef[i] += 1000 * once[i];
      const tol = cRef.map((_, i) => 1e-9 * (1 + Math.abs(cRef[i]) + 1000 * Math.abs(once[i])));
      expectClose('1000 accumulations', cFast, cRef, tol);
    }
  });
});

describe('gemm: the contiguous JS helper', () => {
  it('matches the reference for a batched transposed product', () => {
    const r = rng(5);
    const [batch, m, n, k] = [4, 10, 70, 20];
    const a = randomArray(Float64Array, batch * m * k, r);
    const b = randomArray(Float64Array, batch * k * n, r);
    const c = randomArray(Float64Array, batch * m * n, r);
    const x: Call = {
      tA: true,
      tB: true,
      m,
      n,
      k,
      alpha: 0.5,
      a,
      aOff: 0,
      lda: m,
      sA: m * k,
      b,
      bOff: 0,
      ldb: k,
      sB: k * n,
      beta: 2,
      c,
      cOff: 0,
      ldc: n,
      sC: m * n,
      batch,
    };
    const { want, tol } = reference(x);
    gemm(a, b, c, m, n, k, { transA: true, transB: true, alpha: 0.5, beta: 2, batch });
    expectClose('gemm()', c, want, tol);
  });

  it('beta = 0 ignores NaN in C', () => {
    const c = new Float32Array([NaN, NaN, NaN, NaN]);
    gemm(new Float32Array([1, 2, 3, 4]), new Float32Array([1, 0, 0, 1]), c, 2, 2, 2);
    expect(Array.from(c)).toEqual([1, 2, 3, 4]);
  });
});

describe('gemm: bad arguments give clear errors', () => {
  it('operand too small names the operand and sizes', () => {
    expect(() => gemm(new Float32Array(5), new Float32Array(6), new Float32Array(4), 2, 2, 3)).toThrow(
      /nl\.gemm: a is too small: a \[2, 3\] operand .* reaches element 5 but the array has 5/,
    );
  });
  it('mixed dtypes', () => {
    expect(() =>
      gemm(new Float32Array(4), new Float64Array(4) as never, new Float32Array(4), 2, 2, 2),
    ).toThrow(/nl\.gemm: a, b and c must share a dtype, got Float32Array, Float64Array and Float32Array/);
  });
  it('negative or fractional sizes', () => {
    expect(() => gemm(new Float32Array(4), new Float32Array(4), new Float32Array(4), -2, 2, 2)).toThrow(
      /nl\.gemm: m must be a non-negative integer/,
    );
    expect(() => gemm(new Float32Array(4), new Float32Array(4), new Float32Array(4), 1.5, 2, 2)).toThrow(
      /m must be a non-negative integer/,
    );
  });
  it('overlapping batch outputs', () => {
    const c = new Float32Array(8);
    expect(() =>
      native.gemm(
        false,
        false,
        2,
        2,
        2,
        1,
        new Float32Array(8),
        0,
        2,
        4,
        new Float32Array(8),
        0,
        2,
        4,
        0,
        c,
        0,
        2,
        2,
        2,
      ),
    ).toThrow(/strideC 2 makes batch outputs overlap/);
  });
  it('leading dimension smaller than the columns', () => {
    expect(() =>
      native.gemm(
        false,
        false,
        2,
        3,
        4,
        1,
        new Float32Array(64),
        0,
        3,
        0,
        new Float32Array(64),
        0,
        3,
        0,
        0,
        new Float32Array(64),
        0,
        3,
        0,
        1,
      ),
    ).toThrow(/nl\.gemm: a: leading dimension 3 is smaller than its 4 columns/);
  });
  it('gemmRef checks its arguments the same way, under its own name', () => {
    expect(() =>
      native.gemmRef(
        false,
        false,
        2,
        2,
        3,
        1,
        new Float32Array(5),
        0,
        3,
        0,
        new Float32Array(6),
        0,
        2,
        0,
        0,
        new Float32Array(4),
        0,
        2,
        0,
        1,
      ),
    ).toThrow(/nl\.gemmRef: a is too small/);
    expect(() => (native.gemmRef as (...a: unknown[]) => void)(true)).toThrow(
      /nl\.gemmRef: expected 20 arguments, got 1/,
    );
  });
  it('Int32Array operands are refused', () => {
    expect(() =>
      gemm(new Int32Array(4) as never, new Int32Array(4) as never, new Int32Array(4) as never, 2, 2, 2),
    ).toThrow(/nl\.gemm: a, b and c must be Float32Array or Float64Array, got Int32Array/);
  });
});
