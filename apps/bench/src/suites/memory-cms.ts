/**
 * Rows of suite `memory` for the Continuum Memory System (Hope's CMS): impl 'fused' (memory.cms /
 * memory.cmsObserve, native CPU kernels) against impl 'loop' (tensor ops, the reference), float32,
 * hope-tiny's shape (D = 128, Dh = 256, sequential levels C = 32 / 128 / 512). One call is what the
 * online scheme does per segment: forward with probes, backward of sum(y²) (gradients of x and every
 * θ0) and `observeGrads` (the error-signal update; the 32-token level fires every call at T = 32).
 * Rate = B·T / seconds. Each timed call starts from a fresh state (reset). The note gives tokens per
 * CPU-second (steadier on a shared machine) and, for 'fused', the relative RMS of its output and Δ
 * against the loop's after one call.
 */
import { manualSeed, mul, randn, tidy, type Tensor } from '@nl/tensor';
import { ContinuumMemory } from '@nl/memory';
import { measure, type Row } from '../harness.js';

export interface CmsBenchOptions {
  batches: number[];
  seqLen: number;
  timeMs: number;
}

const D = 128;
const DH = 256;
const LEVELS = [32, 128, 512].map((chunkSize) => ({ chunkSize, lr: 1e-3 }));

function setup(impl: 'loop' | 'fused', B: number, T: number) {
  manualSeed(1);
  const m = new ContinuumMemory({ dim: D, hidden: DH, levels: LEVELS, impl });
  const x = randn([B, T, D]).detach();
  x.requiresGrad = true;
  const pass = (): Float32Array => {
    m.reset();
    const y: Tensor = m.forward(x, { probes: true });
    mul(y, y).sum().backward();
    m.observeGrads();
    m.zeroGrad();
    x.grad = null;
    return y.dataSync() as Float32Array;
  };
  // timed: from a fresh state each call (the tidy scope frees the updated state with the rest)
  return { m, pass, step: () => tidy(pass) };
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

/** Relative RMS of the fused impl's output and level-0 Δ vs the loop's after one call. */
function check(B: number, T: number): string {
  const a = setup('loop', B, T);
  const b = setup('fused', B, T);
  const ya = a.pass();
  const yb = b.pass();
  const da = a.m.delta(0).w1.dataSync();
  const db = b.m.delta(0).w1.dataSync();
  return `rel RMS vs loop: y ${relRms(yb, ya).toExponential(1)}, Δ ${relRms(db, da).toExponential(1)}`;
}

/** One row per (B, impl). */
export async function cmsRows(opts: CmsBenchOptions): Promise<Row[]> {
  const rows: Row[] = [];
  const T = opts.seqLen;
  for (const B of opts.batches) {
    const caseName = `CMS fwd+bwd+observe B=${B} T=${T} D=${D} Dh=${DH} L=3`;
    const note = check(B, T);
    let loopRate: number | null = null;
    for (const impl of ['loop', 'fused'] as const) {
      const s = setup(impl, B, T);
      let cpuUs = 0,
        calls = 0;
      const fn = (): void => {
        const c0 = process.cpuUsage();
        s.step();
        const c = process.cpuUsage(c0);
        cpuUs += c.user + c.system;
        calls++;
      };
      const t = await measure(fn, { timeMs: opts.timeMs });
      const rate = (B * T) / (t.medianMs * 1e-3);
      if (impl === 'loop') loopRate = rate;
      const perCpu = `${((B * T * calls) / (cpuUs * 1e-6)).toFixed(0)} tok per CPU-s`;
      rows.push({
        suite: 'memory',
        case: caseName,
        impl: `ContinuumMemory ${impl} f32`,
        rate,
        unit: 'tok/s',
        medianMs: t.medianMs,
        ratio: loopRate === null ? null : rate / loopRate,
        note: impl === 'fused' ? `${perCpu}, ${note}` : perCpu,
      });
    }
  }
  return rows;
}
