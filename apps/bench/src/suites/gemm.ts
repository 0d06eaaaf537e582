/**
 * Suite `gemm`: f32 C = A·B at 256/512/1024/2048 square — the native addon's GEMM, onnxruntime-node's
 * MatMul (CPU EP) and a plain JS loop, in GFLOP/s (2·n³ flops per product) with ratios to ORT.
 * Each product is also checked against ORT's result, so a fast wrong kernel cannot win.
 * Beside them torch.matmul (f32, same threads) when PyTorch is importable (peers/torch_cpu.py),
 * measured in the same run; its note gives ours / torch, or why the row is skipped.
 */
import { gemm, numThreads } from '@nl/native';
import { measure, type Row } from '../harness.js';
import { ortMatmul } from './onnx-matmul.js';
import { oursOverTorch, peerNote, runPeer } from '../peers.js';

/** Deterministic f32 values in [-0.5, 0.5) from an LCG seeded with `seed`. */
export function randomF32(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}

/** The plain JS baseline: i-k-j loops over Float32Arrays. */
export function jsMatmul(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  m: number,
  n: number,
  k: number,
): void {
  c.fill(0);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p];
      const bo = p * n,
        co = i * n;
      for (let j = 0; j < n; j++) c[co + j] += av * b[bo + j];
    }
  }
}

/** max |x - y| / max |y|: the relative difference of two results, for the bench's sanity checks. */
export function maxRelDiff(x: Float32Array, y: Float32Array): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < x.length; i++) {
    num = Math.max(num, Math.abs(x[i] - y[i]));
    den = Math.max(den, Math.abs(y[i]));
  }
  return num / Math.max(den, 1e-30);
}

export interface GemmSuiteOptions {
  sizes: number[];
  /** Largest size the JS loop runs at (it is ~100x slower). */
  jsMaxSize: number;
  timeMs: number;
}

export async function gemmSuite(opts: GemmSuiteOptions): Promise<Row[]> {
  const rows: Row[] = [];
  const threads = numThreads();
  const torch = runPeer<{ gemm?: { n: number; ms: number }[] }>('torch_cpu.py', {
    threads,
    timeMs: opts.timeMs,
    gemm: opts.sizes,
  });
  for (const size of opts.sizes) {
    const [m, n, k] = [size, size, size];
    const flops = 2 * m * n * k;
    const a = randomF32(m * k, 1),
      b = randomF32(k * n, 2),
      c = new Float32Array(m * n);
    const caseName = `${size}x${size}x${size}`;
    const gflops = (ms: number) => flops / (ms * 1e-3) / 1e9;

    const ort = await ortMatmul(a, b, m, n, k, threads);
    const ortResult = await ort.run();
    const tOrt = await measure(() => ort.run(), { timeMs: opts.timeMs });
    await ort.release();
    const ortRate = gflops(tOrt.medianMs);
    rows.push({
      suite: 'gemm',
      case: caseName,
      impl: 'onnxruntime-node',
      rate: ortRate,
      unit: 'GFLOP/s',
      medianMs: tOrt.medianMs,
      ratio: 1,
    });

    gemm(a, b, c, m, n, k);
    const err = maxRelDiff(c, ortResult);
    const tNative = await measure(() => gemm(a, b, c, m, n, k), { timeMs: opts.timeMs });
    rows.push({
      suite: 'gemm',
      case: caseName,
      impl: '@nl/native',
      rate: gflops(tNative.medianMs),
      unit: 'GFLOP/s',
      medianMs: tNative.medianMs,
      ratio: gflops(tNative.medianMs) / ortRate,
      note:
        err > 1e-4
          ? `MISMATCH vs ORT (max rel diff ${err.toExponential(1)})`
          : `max rel diff vs ORT ${err.toExponential(1)}`,
    });

    const torchMs = torch.gemm?.find((g) => g.n === size)?.ms ?? null;
    const torchRate = torchMs ? gflops(torchMs) : null;
    rows.push({
      suite: 'gemm',
      case: caseName,
      impl: 'torch.matmul (CPU, f32)',
      rate: torchRate,
      unit: 'GFLOP/s',
      medianMs: torchMs,
      ratio: torchRate ? torchRate / ortRate : null,
      note: torchRate
        ? `${oursOverTorch(gflops(tNative.medianMs), torchRate)}; ${peerNote(torch)}`
        : peerNote(torch),
    });

    if (size <= opts.jsMaxSize) {
      const tJs = await measure(() => jsMatmul(a, b, c, m, n, k), {
        timeMs: 0,
        iterations: 1,
        warmupIterations: 0,
      });
      rows.push({
        suite: 'gemm',
        case: caseName,
        impl: 'plain JS loop',
        rate: gflops(tJs.medianMs),
        unit: 'GFLOP/s',
        medianMs: tJs.medianMs,
        ratio: gflops(tJs.medianMs) / ortRate,
      });
    } else {
      rows.push({
        suite: 'gemm',
        case: caseName,
        impl: 'plain JS loop',
        rate: null,
        unit: 'GFLOP/s',
        medianMs: null,
        ratio: null,
        note: `skipped above ${opts.jsMaxSize} (too slow)`,
      });
    }
  }
  return rows;
}
