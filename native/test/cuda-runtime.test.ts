/**
 * The CUDA runtime on the emulated device (host memory, kernels run by the host emulator; what CI
 * has): buffers, transfers, the caching allocator, the buffer table's checks, out-of-memory
 * errors, and the core ops (elementwise with broadcast/strides/dtypes, the tiled GEMM) against
 * independent JS loops. On a GPU machine the same entry points run on cuda:0 (see tools/gpu).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { addonPath, native, OP_CODES } from '@nl/native';

// NL_CUDA_REAL=1 (tools/gpu/remote.sh on a GPU machine): the same tests on cuda:0
const real = process.env.NL_CUDA_REAL === '1';
const dev = native.cudaOpen(0, !real);
const F32 = 0,
  F64 = 1,
  I32 = 2;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

function upload(data: Float32Array | Float64Array | Int32Array): number {
  const p = native.cudaAlloc(dev.id, Math.max(1, data.byteLength), false);
  native.cudaUpload(p, 0, data);
  return p;
}
function download<A extends Float32Array | Float64Array | Int32Array>(p: number, into: A): A {
  native.cudaDownload(p, 0, into);
  return into;
}

describe('emulated CUDA device: buffers and transfers', () => {
  it('opens as emulated (with the tiled GEMM), or as the GPU asked for', () => {
    expect(dev.emulated).toBe(!real);
    if (!real) expect(dev.gemm).toMatch(/tiled/);
    if (process.env.NL_CUBLAS_DISABLE === '1') expect(dev.gemm).toMatch(/tiled/);
  });

  it('round-trips bytes, at an offset, sync and async', async () => {
    const x = Float64Array.from({ length: 100 }, (_, i) => i * 0.5 - 7);
    const p = upload(x);
    expect([...download(p, new Float64Array(100))]).toEqual([...x]);
    const part = new Float64Array(10);
    native.cudaDownload(p, 8 * 40, part);
    expect([...part]).toEqual([...x.subarray(40, 50)]);
    const ab = await native.cudaDownloadAsync(p, 8 * 90, 8 * 10);
    expect([...new Float64Array(ab)]).toEqual([...x.subarray(90)]);
    native.cudaFree(p);
  });

  it('zero-fills on request', () => {
    const p = native.cudaAlloc(dev.id, 4096, false);
    native.cudaUpload(p, 0, new Float32Array(1024).fill(3));
    native.cudaFree(p);
    const q = native.cudaAlloc(dev.id, 4096, true); // the cached block comes back zeroed
    expect(download(q, new Float32Array(1024)).every((v) => v === 0)).toBe(true);
    native.cudaFree(q);
  });

  it('the caching allocator reuses freed blocks of the same size class', () => {
    const before = native.cudaMemory(dev.id);
    for (let i = 0; i < 50; i++) native.cudaFree(native.cudaAlloc(dev.id, 10_000 + i, false));
    const after = native.cudaMemory(dev.id);
    expect(after.allocs - before.allocs).toBeLessThanOrEqual(1);
    expect(after.inUse).toBe(before.inUse);
    expect(after.cached).toBeGreaterThanOrEqual(10_240);
    native.cudaEmptyCache(dev.id);
    expect(native.cudaMemory(dev.id).cached).toBe(0);
  });

  it('refuses freed, unknown and interior pointers, and out-of-range copies, with errors', () => {
    const p = native.cudaAlloc(dev.id, 64, true);
    expect(() => native.cudaUpload(p, 60, new Float32Array(2))).toThrow(
      /8 bytes at offset 60 do not fit a buffer of 64/,
    );
    expect(() => native.cudaDownload(p + 4, 0, new Float32Array(1))).toThrow(/not a live CUDA buffer/);
    native.cudaFree(p);
    expect(() => native.cudaDownload(p, 0, new Float32Array(1))).toThrow(/not a live CUDA buffer/);
    expect(() => native.cudaFree(p)).toThrow(/not a live CUDA buffer/);
    expect(() => native.cudaFree(12345)).toThrow(/not a live CUDA buffer/);
    expect(() => native.cudaAlloc(99, 8, false)).toThrow(/unknown device id 99/);
  });

  it('an operand that reaches past its buffer is refused before any kernel runs', () => {
    const a = upload(new Float32Array(6));
    const out = native.cudaAlloc(dev.id, 24, true);
    // shape [2, 3] with strides [4, 1] reaches element 6 of a 6-element buffer
    expect(() => native.cudaUnary(OP_CODES.unary.exp!, out, F32, [2, 3], a, 0, [4, 1], 0, 0)).toThrow(
      /a reaches element 6 of a buffer of 6 float32 elements/,
    );
    expect(() =>
      native.cudaGemm(F32, false, false, 3, 3, 3, 1, a, 0, 3, 0, a, 0, 3, 0, 0, out, 0, 3, 0, 1),
    ).toThrow(/cudaGemm: a reaches element 8/);
    native.cudaFree(a);
    native.cudaFree(out);
  });

  it.skipIf(real)(
    'out of memory is an error saying what was asked and what is free (child with a 1 MiB budget)',
    () => {
      const code = `const native = require(${JSON.stringify(addonPath)});
      const d = native.cudaOpen(0, true);
      const keep = native.cudaAlloc(d.id, 600000, false);
      try { native.cudaAlloc(d.id, 700000, false); console.log('no error'); }
      catch (e) { console.log(e.message); }`;
      const r = spawnSync(process.execPath, ['-e', code], {
        env: { ...process.env, NL_CUDA_EMU_MEMORY: String(1 << 20) },
        encoding: 'utf8',
      });
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(
        /out of memory on the emulated CUDA device: asked for 700000 bytes, \d+ free of 1048576/,
      );
    },
  );
});

describe('emulated CUDA kernels: elementwise', () => {
  // a [3, 1, 5] and b [4, 5], both broadcast to [3, 4, 5]
  const full = [3, 4, 5];
  const n = 60;

  it('every binary op code, with broadcast, against JS (f64, f32, int32 comparisons)', () => {
    const r = rng(3);
    const a = Float64Array.from({ length: 15 }, () => Math.round(r() * 4) / 2);
    const b = Float64Array.from({ length: 20 }, () => Math.round(r() * 4) / 2 + 0.25);
    const js: Record<string, (x: number, y: number) => number> = {
      add: (x, y) => x + y, sub: (x, y) => x - y, mul: (x, y) => x * y, div: (x, y) => x / y,
      maximum: (x, y) => Math.max(x, y), minimum: (x, y) => Math.min(x, y), pow: (x, y) => Math.pow(Math.abs(x), y),
      eq: (x, y) => +(x === y), ne: (x, y) => +(x !== y), lt: (x, y) => +(x < y), le: (x, y) => +(x <= y),
      gt: (x, y) => +(x > y), ge: (x, y) => +(x >= y),
    }; // prettier-ignore
    for (const [name, code] of Object.entries(OP_CODES.binary)) {
      const cmp = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'].includes(name);
      const av = name === 'pow' ? a.map(Math.abs) : a;
      for (const dt of [F64, F32] as const) {
        const C = dt === F64 ? Float64Array : Float32Array;
        const pa = upload(C.from(av));
        const pb = upload(C.from(b));
        const out = native.cudaAlloc(dev.id, n * 8, true);
        native.cudaBinary(code, out, cmp ? I32 : dt, 0, full, pa, 0, [5, 0, 1], pb, 0, [0, 5, 1], dt);
        const got = cmp ? download(out, new Int32Array(n)) : download(out, new C(n));
        for (let i = 0; i < 3; i++)
          for (let j = 0; j < 4; j++)
            for (let k = 0; k < 5; k++) {
              const want = js[name]!(C.from([av[i * 5 + k]!])[0]!, C.from([b[j * 5 + k]!])[0]!);
              expect(got[i * 20 + j * 5 + k], `${name} dt ${dt}`).toBeCloseTo(
                dt === F32 && !cmp ? Math.fround(want) : want,
                5,
              );
            }
        for (const p of [pa, pb, out]) native.cudaFree(p);
      }
    }
  });

  it('every unary op code against JS on a transposed view (f64)', () => {
    const x = Float64Array.from({ length: 12 }, (_, i) => (i - 5.5) / 3);
    const erf = (v: number) => {
      // Abramowitz–Stegun 7.1.26 is too coarse; series for |v| < 3 (enough here)
      let term = v, sum = v;
      for (let k = 1; k < 60; k++) { term *= (-v * v) / k; sum += term / (2 * k + 1); }
      return (2 / Math.sqrt(Math.PI)) * sum;
    }; // prettier-ignore
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const u = (v: number) => 0.7978845608028654 * (v + 0.044715 * v ** 3);
    const js: Record<string, (v: number) => number> = {
      neg: (v) => -v, abs: Math.abs, exp: Math.exp, log: (v) => Math.log(Math.abs(v)), sqrt: (v) => Math.sqrt(Math.abs(v)),
      rsqrt: (v) => 1 / Math.sqrt(Math.abs(v)), tanh: Math.tanh, sigmoid: sig, relu: (v) => Math.max(0, v),
      silu: (v) => v * sig(v), gelu: (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)), softplus: (v) => Math.log1p(Math.exp(v)),
      square: (v) => v * v, clamp: (v) => Math.min(0.5, Math.max(-0.5, v)), sin: Math.sin, cos: Math.cos, copy: (v) => v,
      reluMask: (v) => +(v > 0), siluDeriv: (v) => sig(v) * (1 + v * (1 - sig(v))),
      geluDeriv: (v) => 0.5 * (1 + erf(v / Math.SQRT2)) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI),
      clampMask: (v) => +(v >= -0.5 && v <= 0.5), sign: Math.sign, reciprocal: (v) => 1 / v, log1p: (v) => Math.log1p(Math.abs(v)),
      expm1: Math.expm1, geluTanh: (v) => 0.5 * v * (1 + Math.tanh(u(v))),
      geluTanhDeriv: (v) => { const t = Math.tanh(u(v)); return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * 0.7978845608028654 * (1 + 3 * 0.044715 * v * v); },
      floor: Math.floor, ceil: Math.ceil, round: Math.round,
    }; // prettier-ignore
    const positive = new Set(['log', 'sqrt', 'rsqrt', 'log1p']);
    for (const [name, code] of Object.entries(OP_CODES.unary)) {
      const src = positive.has(name) ? x.map(Math.abs) : x;
      const p = upload(src);
      const out = native.cudaAlloc(dev.id, 12 * 8, true);
      // the [4, 3] transpose of a [3, 4] matrix
      native.cudaUnary(code, out, F64, [4, 3], p, 0, [1, 4], -0.5, 0.5);
      const got = download(out, new Float64Array(12));
      for (let i = 0; i < 4; i++)
        for (let j = 0; j < 3; j++) expect(got[i * 3 + j], name).toBeCloseTo(js[name]!(src[j * 4 + i]!), 12);
      native.cudaFree(p);
      native.cudaFree(out);
    }
  });

  it('copy converts dtypes from strided sources; fill writes a range', () => {
    const p = upload(Float64Array.from([1.7, -2.2, 3.5, 4.9, -5.1, 6.0]));
    const out = native.cudaAlloc(dev.id, 24, true);
    native.cudaCopy(out, I32, [3, 2], p, F64, 0, [1, 3]);
    expect([...download(out, new Int32Array(6))]).toEqual([1, 4, -2, -5, 3, 6]);
    native.cudaFill(out, F32, 2, 3, 0.25);
    const f = download(out, new Float32Array(6));
    expect([...f.subarray(2, 5)]).toEqual([0.25, 0.25, 0.25]);
    native.cudaFree(p);
    native.cudaFree(out);
  });
});

describe('CUDA GEMM (tiled kernel when emulated or NL_CUBLAS_DISABLE=1, else cuBLAS) against a float64 loop', () => {
  const cases: [boolean, boolean, number, number, number, number][] = [
    [false, false, 1, 1, 1, 1],
    [false, false, 65, 70, 33, 1],
    [true, false, 17, 64, 80, 2],
    [false, true, 64, 3, 129, 3],
    [true, true, 100, 66, 16, 1],
  ];
  for (const [ta, tb, m, n, k, batch] of cases) {
    it(`ta=${ta} tb=${tb} m=${m} n=${n} k=${k} batch=${batch}, beta 0.5, f32 and f64`, () => {
      const r = rng(m * 7 + n);
      const A = Float64Array.from({ length: batch * m * k }, r);
      const B = Float64Array.from({ length: k * n }, r); // broadcast over the batch (stride 0)
      const C0 = Float64Array.from({ length: batch * m * n }, r);
      const lda = ta ? m : k,
        ldb = tb ? k : n;
      const want = new Float64Array(batch * m * n);
      for (let b = 0; b < batch; b++)
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let p = 0; p < k; p++) {
              const av = ta ? A[b * m * k + p * lda + i]! : A[b * m * k + i * lda + p]!;
              const bv = tb ? B[j * ldb + p]! : B[p * ldb + j]!;
              s += av * bv;
            }
            want[b * m * n + i * n + j] = 1.5 * s + 0.5 * C0[b * m * n + i * n + j]!;
          }
      for (const dt of [F64, F32] as const) {
        const Ctor = dt === F64 ? Float64Array : Float32Array;
        const pa = upload(Ctor.from(A));
        const pb = upload(Ctor.from(B));
        const pc = upload(Ctor.from(C0));
        native.cudaGemm(
          dt,
          ta,
          tb,
          m,
          n,
          k,
          1.5,
          pa,
          0,
          lda,
          m * k,
          pb,
          0,
          ldb,
          0,
          0.5,
          pc,
          0,
          n,
          m * n,
          batch,
        );
        const got = download(pc, new Ctor(batch * m * n));
        const tol = dt === F64 ? 1e-12 : 2e-5 * Math.sqrt(k);
        for (let i = 0; i < want.length; i++)
          expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(tol * (1 + Math.abs(want[i]!)));
        for (const p of [pa, pb, pc]) native.cudaFree(p);
      }
    });
  }

  it('alpha = 0 reads neither A nor B (NaNs there do not propagate); beta = 0 ignores NaN in C', () => {
    const pa = upload(new Float32Array(4).fill(NaN));
    const pc = upload(Float32Array.from([1, 2, 3, 4]));
    native.cudaGemm(F32, false, false, 2, 2, 2, 0, pa, 0, 2, 0, pa, 0, 2, 0, 2, pc, 0, 2, 0, 1);
    expect([...download(pc, new Float32Array(4))]).toEqual([2, 4, 6, 8]);
    const pn = upload(new Float32Array(4).fill(NaN));
    const pi = upload(Float32Array.from([1, 0, 0, 1]));
    native.cudaGemm(F32, false, false, 2, 2, 2, 1, pi, 0, 2, 0, pi, 0, 2, 0, 0, pn, 0, 2, 0, 1);
    expect([...download(pn, new Float32Array(4))]).toEqual([1, 0, 0, 1]);
    for (const p of [pa, pc, pn, pi]) native.cudaFree(p);
  });
});

describe('cuBLAS is found at run time (or its absence explained)', () => {
  it('info().cuda.cublas names the library or every path it tried; NL_CUBLAS_PATH is tried first', () => {
    const code = `const n = require(${JSON.stringify(addonPath)}); console.log(n.info().cuda.cublas);`;
    const r = spawnSync(process.execPath, ['-e', code], {
      env: { ...process.env, NL_CUBLAS_PATH: '/nonexistent/dir' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    const s = r.stdout.trim();
    if (s.startsWith('cuBLAS: ')) return; // a machine with cuBLAS (found on another path)
    if (/not compiled in/.test(s)) return; // a CPU-only build
    expect(s).toMatch(/^cuBLAS not found \(tried \/nonexistent\/dir\/libcublas\.so\.13, /);
    expect(s).toMatch(/libcublas\.so\.12/);
    expect(s).toMatch(/set NL_CUBLAS_PATH$/);
  });
});

describe('CUDA GEMM refuses overlapping output batches', () => {
  it('strideC 0 with batch > 1 is an error (batches are written concurrently on a GPU)', () => {
    const p = native.cudaAlloc(dev.id, 64, true);
    expect(() =>
      native.cudaGemm(F32, false, false, 2, 2, 2, 1, p, 0, 2, 0, p, 0, 2, 0, 0, p, 0, 2, 0, 2 ** 31),
    ).toThrow(/strideC 0 makes the 2147483648 output matrices overlap/);
    native.cudaFree(p);
  });
});

describe("matmul precision 'medium': bfloat16 operands, fp32 accumulation", () => {
  /** Round-to-nearest-even to bfloat16, through the float's bits (independent of the addon). */
  function bf16(x: number): number {
    const f = new Float32Array([x]);
    const u = new Uint32Array(f.buffer);
    u[0] = ((u[0]! + 0x7fff + ((u[0]! >>> 16) & 1)) >>> 16) << 16;
    return f[0]!;
  }

  it('rounds both operands to bf16 (ties to even) and matches a float64 product of the rounded values', () => {
    expect([bf16(1 + 2 ** -8), bf16(1 + 3 * 2 ** -8), bf16(1 + 2 ** -7)]).toEqual([
      1,
      1 + 2 ** -6,
      1 + 2 ** -7,
    ]);
    const r = rng(11);
    const m = 37,
      n = 29,
      k = 70;
    const A = Float32Array.from({ length: m * k }, r);
    const B = Float32Array.from({ length: n * k }, r); // used transposed
    const pa = upload(A);
    const pb = upload(B);
    const pc = native.cudaAlloc(dev.id, m * n * 4, true);
    expect(native.cudaSetMatmulPrecision(dev.id, 2)).toBe(2);
    try {
      native.cudaGemm(F32, false, true, m, n, k, 1, pa, 0, k, 0, pb, 0, k, 0, 0, pc, 0, n, 0, 1);
    } finally {
      native.cudaSetMatmulPrecision(dev.id, 0);
    }
    const got = download(pc, new Float32Array(m * n));
    let maxRounded = 0,
      maxExact = 0;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0,
          e = 0;
        for (let p = 0; p < k; p++) {
          s += bf16(A[i * k + p]!) * bf16(B[j * k + p]!);
          e += A[i * k + p]! * B[j * k + p]!;
        }
        maxRounded = Math.max(maxRounded, Math.abs(got[i * n + j]! - s));
        maxExact = Math.max(maxExact, Math.abs(got[i * n + j]! - e));
      }
    expect(maxRounded).toBeLessThan(2e-5 * k); // fp32 accumulation of bf16 products
    expect(maxExact).toBeGreaterThan(1e-3); // and it is not the fp32 product
    for (const p of [pa, pb, pc]) native.cudaFree(p);
  });

  it('refuses unknown precision codes', () => {
    expect(() => native.cudaSetMatmulPrecision(dev.id, 3 as 2)).toThrow(
      /precision must be 0 \(highest\), 1 \(high\) or 2 \(medium\)/,
    );
  });
});
