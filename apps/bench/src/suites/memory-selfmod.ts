/**
 * Rows of suite `memory` for SelfModifyingTitans (Hope's sequence memory, 5 residual MLP memories
 * per head): impl 'fused' (one native op per call, C++ forward and backward) against impl 'loop'
 * (the token loop on tensor ops, the reference semantics) and, for context, impl 'chunked'
 * (batched segments on tensor ops). Float32, H = 4, Dh = D, default chunks (16 / 8), momentum 0.9.
 * Rate = B·T / seconds (tokens of the whole batch). Passes: forward under noGrad, and forward +
 * backward of sum(o²) (gradients of x, q and every init). The loop and chunked impls run at a
 * shorter T (`refT`; their cost per token does not depend on T); the fused output is checked
 * against the loop's on that T (relative RMS in the note). The note also gives tokens per CPU-second
 * (process CPU time over the sampled calls), steadier than wall time on a shared machine.
 */
import { manualSeed, mul, noGrad, randn, tidy, type Tensor } from '@nl/tensor';
import { SelfModifyingTitans } from '@nl/memory';
import { measure, type Row } from '../harness.js';

export interface SelfModBenchOptions {
  batches: number[];
  dims: number[];
  seqLen: number;
  /** T of the loop / chunked rows. */
  refT: number;
  timeMs: number;
}

const H = 4;
type Impl = 'loop' | 'chunked' | 'fused';

function setup(impl: Impl, B: number, T: number, D: number) {
  manualSeed(1);
  const m = new SelfModifyingTitans({ heads: H, dim: D, impl });
  // x at scale 0.1 (|v| ≈ 0.1 √D): with larger inputs the self-referential inner dynamics of these
  // random memories overflow within ~100 tokens (in the loop too), and timing inf/NaN means nothing
  const x = mul(randn([B, T, H, D]), 0.1).detach();
  x.requiresGrad = true; // dL/dx too
  const q = randn([B, T, H, D]).detach();
  const fwd = (): Float32Array =>
    tidy(() => {
      m.reset();
      return noGrad(() => m.forward(x, q)).dataSync() as Float32Array;
    });
  const fwdBwd = (): void =>
    tidy(() => {
      m.reset();
      const o: Tensor = m.forward(x, q);
      o.square().sum().backward();
      m.zeroGrad();
      x.grad = null;
    });
  return { fwd, fwdBwd };
}

function relRms(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < ref.length; i++) {
    num += (got[i]! - ref[i]!) ** 2;
    den += ref[i]! ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-300));
}

/** One row per (pass, B, D, impl). */
export async function selfModRows(opts: SelfModBenchOptions): Promise<Row[]> {
  const rows: Row[] = [];
  for (const D of opts.dims) {
    for (const B of opts.batches) {
      const check = relRms(setup('fused', B, opts.refT, D).fwd(), setup('loop', B, opts.refT, D).fwd());
      const finite = setup('fused', B, opts.seqLen, D).fwd().every(Number.isFinite);
      for (const pass of ['fwd', 'fwd+bwd'] as const) {
        const caseName = `selfModifying ${pass} B=${B} H=${H} D=${D}`;
        let loopRate: number | null = null;
        for (const impl of ['loop', 'chunked', 'fused'] as const) {
          const T = impl === 'fused' ? opts.seqLen : opts.refT;
          const s = setup(impl, B, T, D);
          const run = pass === 'fwd' ? s.fwd : s.fwdBwd;
          let cpuUs = 0,
            calls = 0;
          const fn = (): void => {
            const c0 = process.cpuUsage();
            run();
            const c = process.cpuUsage(c0);
            cpuUs += c.user + c.system;
            calls++;
          };
          const ref = impl !== 'fused';
          const t = await measure(fn, ref ? { timeMs: 0, iterations: 2, warmupIterations: 1 } : { timeMs: opts.timeMs });
          const rate = (B * T) / (t.medianMs * 1e-3);
          if (impl === 'loop') loopRate = rate;
          const perCpu = `${((B * T * calls) / (cpuUs * 1e-6)).toFixed(0)} tok per CPU-s`;
          rows.push({
            suite: 'memory',
            case: caseName,
            impl: `SelfModifyingTitans ${impl} f32 T=${T}`,
            rate,
            unit: 'tok/s',
            medianMs: t.medianMs,
            ratio: loopRate === null ? null : rate / loopRate,
            note:
              impl === 'fused'
                ? `${perCpu}, rel RMS vs loop (T=${opts.refT}): o ${check.toExponential(1)}${finite ? '' : ', WARNING: non-finite outputs'}`
                : perCpu,
          });
        }
      }
    }
  }
  return rows;
} // prettier-ignore
