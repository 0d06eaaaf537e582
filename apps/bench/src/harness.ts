/**
 * Timing harness shared by every suite: tinybench for the statistics, napkin maths (GFLOP/s,
 * GB/s) computed from the median, rows collected for the printed table and the JSON report.
 */
import { Bench } from 'tinybench';

export interface Measurement {
  /** Median wall time of one call, in milliseconds. */
  medianMs: number;
  meanMs: number;
  /** Relative margin of error of the mean (percent). */
  rme: number;
  samples: number;
}

export interface MeasureOptions {
  /** Minimum total time to spend sampling (ms). */
  timeMs?: number;
  /** Minimum number of samples. */
  iterations?: number;
  warmupIterations?: number;
}

/** Times `fn` (synchronous or async) and returns its per-call statistics. */
export async function measure(fn: () => unknown, opts: MeasureOptions = {}): Promise<Measurement> {
  const bench = new Bench({
    time: opts.timeMs ?? 300,
    iterations: opts.iterations ?? 3,
    warmupIterations: opts.warmupIterations ?? 1,
    warmupTime: 0,
    throws: true,
  });
  bench.add('x', fn);
  await bench.run();
  const result = bench.tasks[0].result;
  if (!result || result.state !== 'completed') {
    throw new Error(`benchmark did not complete: ${result ? result.state : 'no result'}`);
  }
  const latency = result.latency;
  return {
    medianMs: latency.p50 ?? latency.mean,
    meanMs: latency.mean,
    rme: latency.rme,
    samples: latency.samplesCount,
  };
}

/** One printed/serialised result row. `rate` is in `unit` (higher is better). */
export interface Row {
  suite: string;
  case: string;
  impl: string;
  rate: number | null;
  unit: string;
  medianMs: number | null;
  /** rate divided by the suite's reference implementation's rate on the same case. */
  ratio?: number | null;
  note?: string;
}
