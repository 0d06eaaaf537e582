/**
 * Suite `memory`: the fused chunk kernels of @nl/memory (gated delta rule, exact tiling; Titans
 * linear and MLP memories, mini-batch chunks) against their TypeScript token-by-token references, float32
 * inputs, B = 1, H = 4, Dk = Dv = 64, T = 512/2048/8192: tokens/s of forward and forward+backward,
 * the ratio to the reference, and effective GFLOP/s.
 *
 * Flop counts are those of the token recurrence, per token and head (the chunked kernels do a bit
 * more arithmetic; both implementations are credited the same count, so the GFLOP/s ratio equals the
 * speed ratio):  deltaRule fwd 7·Dk·Dv, bwd 22·Dk·Dv;  titansLinear fwd 9·Dk·Dv, bwd 28·Dk·Dv;
 * titansMlp (hidden Dh = D) fwd 20·D·Dh, bwd 60·D·Dh (approximate).
 * The reference runs only up to `refMaxT` tokens (it is slow); above that its rows say "skipped".
 * Each native result is checked against the reference where both ran (relative RMS in the note).
 * After each fused deltaRule row, its PyTorch peer when torch is importable (memory-torch.ts).
 */
import { gemm } from '@nl/native';
import {
  deltaRuleBackward,
  deltaRuleBackwardReference,
  deltaRuleForward,
  deltaRuleReference,
  titansLinearBackward,
  titansLinearBackwardReference,
  titansLinearForward,
  titansLinearReference,
  titansMlpBackward,
  titansMlpBackwardReference,
  titansMlpForward,
  titansMlpReference,
  type SeqShape,
} from '@nl/memory';
import { measure, type Row } from '../harness.js';
import { selfModRows, type SelfModBenchOptions } from './memory-selfmod.js';
import { cmsRows, type CmsBenchOptions } from './memory-cms.js';
import { withTorchDeltaRule, type DeltaCase } from './memory-torch.js';

export interface MemorySuiteOptions {
  seqLens: number[];
  /** Longest T at which the TS reference runs. */
  refMaxT: number;
  /** Minimum sampling time per measurement (ms). */
  timeMs: number;
  /** Chunk size of the fused kernels. */
  chunkSize: number;
  /** SelfModifyingTitans rows (memory-selfmod.ts); none when absent. */
  selfMod?: SelfModBenchOptions;
  /** ContinuumMemory rows (memory-cms.ts); none when absent. */
  cms?: CmsBenchOptions;
}

const H = 4;
const D = 64;

function random(n: number, seed: number, f: (u: number) => number = (u) => u): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = f(s / 4294967296 - 0.5);
  }
  return out;
}

function unitRows(x: Float32Array, d: number): Float32Array {
  for (let r = 0; r < x.length / d; r++) {
    let s = 0;
    for (let i = 0; i < d; i++) s += x[r * d + i] ** 2;
    const inv = 1 / Math.sqrt(s);
    for (let i = 0; i < d; i++) x[r * d + i] *= inv;
  }
  return x;
}

function relRms(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < ref.length; i++) {
    num += (got[i] - ref[i]) ** 2;
    den += ref[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-300));
}

/** What the correctness check reads: the outputs and, after a backward, dL/dk. */
interface KernelResult {
  o: ArrayLike<number>;
  dk?: ArrayLike<number>;
}

interface KernelCase {
  name: string;
  /** Flops per token and head: forward, backward. */
  flops: [number, number];
  fwd: () => KernelResult;
  fwdBwd: () => KernelResult;
  refFwd: () => KernelResult;
  refFwdBwd: () => KernelResult;
}

function kernels(T: number, chunkSize: number): KernelCase[] {
  const n = T * H;
  const shape: SeqShape = { batch: 1, seqLen: T, heads: H, dk: D, dv: D };
  const q = unitRows(random(n * D, 1), D);
  const k = unitRows(random(n * D, 2), D);
  const v = random(n * D, 3);
  const dO = random(n * D, 4);
  const dr = {
    q,
    k,
    v,
    alpha: random(n, 5, (u) => 0.95 + 0.1 * u),
    beta: random(n, 6, (u) => 0.5 + u),
    shape,
  };
  const ti = {
    q,
    k,
    v,
    theta: random(n, 7, (u) => 0.1 + 0.1 * u),
    eta: random(n, 8, (u) => 0.9 + 0.1 * u),
    alpha: random(n, 9, (u) => 0.01 + 0.01 * u),
    shape,
  };
  const opts = { chunkSize };
  const w = (seed: number) => random(H * D * D, seed, (u) => 0.2 * u);
  // Smaller inner lr and more forgetting than the linear case: with θ ≈ 0.1 the MLP memory diverges
  // (inf/NaN) within a few thousand tokens, and timing non-finite arithmetic means nothing.
  const mlp = {
    ...ti,
    theta: random(n, 12, (u) => 0.02 + 0.02 * u),
    alpha: random(n, 13, (u) => 0.02 + 0.02 * u),
    w1: w(10),
    w2: w(11),
    hidden: D,
  };
  return [
    {
      name: 'deltaRule',
      flops: [7 * D * D, 22 * D * D],
      fwd: () => deltaRuleForward(dr, opts),
      fwdBwd: () => ({ ...deltaRuleForward(dr, opts), ...deltaRuleBackward(dr, { dO }, opts) }),
      refFwd: () => deltaRuleReference(dr),
      refFwdBwd: () => ({ ...deltaRuleReference(dr), ...deltaRuleBackwardReference(dr, { dO }) }),
    },
    {
      name: 'titansLinear',
      flops: [9 * D * D, 28 * D * D],
      fwd: () => titansLinearForward(ti, opts),
      fwdBwd: () => ({ ...titansLinearForward(ti, opts), ...titansLinearBackward(ti, { dO }, opts) }),
      refFwd: () => titansLinearReference(ti, opts),
      refFwdBwd: () => ({
        ...titansLinearReference(ti, opts),
        ...titansLinearBackwardReference(ti, { dO }, opts),
      }),
    },
    {
      name: 'titansMlp',
      flops: [20 * D * D, 60 * D * D],
      fwd: () => titansMlpForward(mlp, opts),
      fwdBwd: () => ({ ...titansMlpForward(mlp, opts), ...titansMlpBackward(mlp, { dO }, opts) }),
      refFwd: () => titansMlpReference(mlp, opts),
      refFwdBwd: () => ({
        ...titansMlpReference(mlp, opts),
        ...titansMlpBackwardReference(mlp, { dO }, opts),
      }),
    },
  ];
}

/** A small delta-rule case (B1 T96 H2 D16: a partial last chunk) on the suite's distributions. */
export function smallDeltaCase(seed = 20): DeltaCase {
  const shape: SeqShape = { batch: 1, seqLen: 96, heads: 2, dk: 16, dv: 16 };
  const n = shape.seqLen * shape.heads;
  return {
    q: unitRows(random(n * 16, seed), 16),
    k: unitRows(random(n * 16, seed + 1), 16),
    v: random(n * 16, seed + 2),
    alpha: random(n, seed + 3, (u) => 0.95 + 0.1 * u),
    beta: random(n, seed + 4, (u) => 0.5 + u),
    dO: random(n * 16, seed + 5),
    shape,
  };
}

/** Runs the suite; one row per (kernel, pass, T, implementation). */
export async function memorySuite(opts: MemorySuiteOptions): Promise<Row[]> {
  let rows: Row[] = [];
  // The GEMM rate of this run, for scale.
  {
    const s = 256;
    const a = random(s * s, 11),
      b = random(s * s, 12),
      c = new Float32Array(s * s);
    const t = await measure(() => gemm(a, b, c, s, s, s), { timeMs: opts.timeMs });
    const rate = (2 * s ** 3) / (t.medianMs * 1e-3) / 1e9;
    rows.push({
      suite: 'memory',
      case: `gemm f32 ${s}^3 (scale)`,
      impl: '@nl/native gemm',
      rate,
      unit: 'GFLOP/s',
      medianMs: t.medianMs,
    });
  }
  for (const T of opts.seqLens) {
    for (const kc of kernels(T, opts.chunkSize)) {
      for (const pass of ['fwd', 'fwd+bwd'] as const) {
        const caseName = `${kc.name} ${pass} T=${T}`;
        const flopsPerTok = H * (pass === 'fwd' ? kc.flops[0] : kc.flops[0] + kc.flops[1]);
        const gflops = (ms: number) => (flopsPerTok * T) / (ms * 1e-3) / 1e9;
        const tokRate = (ms: number) => T / (ms * 1e-3);
        const nat = pass === 'fwd' ? kc.fwd : kc.fwdBwd;
        const ref = pass === 'fwd' ? kc.refFwd : kc.refFwdBwd;
        let refRate: number | null = null;
        let check = '';
        if (T <= opts.refMaxT) {
          const want = ref();
          const got = nat();
          check = `, rel RMS vs ref: o ${relRms(got.o, want.o).toExponential(1)}`;
          if (got.dk && want.dk) check += `, dk ${relRms(got.dk, want.dk).toExponential(1)}`;
          const t = await measure(ref, { timeMs: 0, iterations: 2, warmupIterations: 0 });
          refRate = tokRate(t.medianMs);
          rows.push({
            suite: 'memory',
            case: caseName,
            impl: 'TS reference (token loop, f64)',
            rate: refRate,
            unit: 'tok/s',
            medianMs: t.medianMs,
            ratio: 1,
            note: `${gflops(t.medianMs).toFixed(2)} GFLOP/s`,
          });
        } else {
          rows.push({
            suite: 'memory',
            case: caseName,
            impl: 'TS reference (token loop, f64)',
            rate: null,
            unit: 'tok/s',
            medianMs: null,
            ratio: null,
            note: `skipped above T=${opts.refMaxT} (too slow)`,
          });
        }
        const t = await measure(nat, { timeMs: opts.timeMs });
        const last = nat().o;
        let finite = true;
        for (let i = 0; i < last.length && finite; i++) finite = Number.isFinite(last[i]);
        if (!finite) check += ', WARNING: non-finite outputs';
        rows.push({
          suite: 'memory',
          case: caseName,
          impl: `@nl/native fused f32 C=${opts.chunkSize}`,
          rate: tokRate(t.medianMs),
          unit: 'tok/s',
          medianMs: t.medianMs,
          ratio: refRate === null ? null : tokRate(t.medianMs) / refRate,
          note: `${gflops(t.medianMs).toFixed(2)} GFLOP/s${check}`,
        });
      }
    }
  }
  rows = withTorchDeltaRule(rows, { ...opts, heads: H, dim: D, check: smallDeltaCase() });
  if (opts.selfMod) rows.push(...(await selfModRows(opts.selfMod)));
  if (opts.cms) rows.push(...(await cmsRows(opts.cms)));
  return rows;
}
