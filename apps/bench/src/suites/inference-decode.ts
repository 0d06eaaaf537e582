/**
 * The greedy-decode comparison every inference row makes: our decoder(s) and a model's exported
 * ONNX 'step' graph in onnxruntime-node (CPU, as many threads as our kernels) generate `tokens`
 * tokens one at a time from the prompt 'T'; the tokens are checked equal, then each is timed
 * (best of `runs`). Rows: ORT (ratio 1), then each of ours (ratio ORT ms / ours).
 */
import * as ort from 'onnxruntime-node';
import { numThreads } from '@nl/native';
import type { Row } from '../harness.js';

export interface DecodeOptions {
  /** Tokens generated per timed run (after a one-token prompt). */
  tokens: number;
  /** Timed runs per implementation (the best is reported). */
  runs: number;
}

/** The exported step graph: its bytes, its start state feeds, and the output feeding each state input. */
export interface StepGraph {
  graph: Uint8Array;
  start: () => Record<string, ort.Tensor>;
  outName: (input: string) => string;
}

/** One of our decoders: its row label and how to open one. */
export interface OurDecoder {
  impl: string;
  open: () => { feed(ids: Int32Array): Float32Array; dispose(): void };
}

const PROMPT = 84; // 'T'

const argmax = (row: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
};

async function bestMs(fn: () => unknown, runs: number): Promise<number> {
  let ms = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ms = Math.min(ms, performance.now() - t0);
  }
  return ms;
}

/** Greedy decode rows of `kase` (see the module comment). */
export async function greedyDecodeRows(
  kase: string,
  step: StepGraph,
  decoders: OurDecoder[],
  o: DecodeOptions,
): Promise<Row[]> {
  const session = await ort.InferenceSession.create(step.graph, {
    executionProviders: ['cpu'],
    intraOpNumThreads: numThreads(), // as many threads as our CPU kernels use
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const ours = (d: OurDecoder) => (): number[] => {
    const dec = d.open();
    try {
      const out: number[] = [];
      let next = PROMPT;
      for (let t = 0; t < o.tokens; t++) out.push((next = argmax(dec.feed(Int32Array.of(next)))));
      return out;
    } finally {
      dec.dispose();
    }
  };
  const ortDecode = async (): Promise<number[]> => {
    const feeds = step.start();
    const names = Object.keys(feeds);
    const out: number[] = [];
    let next = PROMPT;
    for (let t = 0; t < o.tokens; t++) {
      feeds.ids = new ort.Tensor('int32', Int32Array.of(next), [1, 1]);
      const r = await session.run(feeds);
      out.push((next = argmax(r.logits!.data as Float32Array)));
      for (const n of names) feeds[n] = r[step.outName(n)]!;
    }
    return out;
  };
  try {
    const want = await ortDecode();
    const same = decoders.map((d) => ours(d)().every((x, i) => x === want[i]));
    const msOurs: number[] = [];
    for (const d of decoders) msOurs.push(await bestMs(ours(d), o.runs));
    const msOrt = await bestMs(ortDecode, o.runs);
    const rate = (ms: number) => (o.tokens / ms) * 1000;
    const note = (ok: boolean) => (ok ? 'same tokens' : 'TOKENS DIFFER');
    return [
      { suite: 'inference', case: kase, impl: 'onnxruntime-node (exported step graph)', rate: rate(msOrt), unit: 'tok/s', medianMs: msOrt, ratio: 1, note: note(same.every(Boolean)) }, // prettier-ignore
      ...decoders.map((d, i): Row => ({ suite: 'inference', case: kase, impl: d.impl, rate: rate(msOurs[i]!), unit: 'tok/s', medianMs: msOurs[i]!, ratio: msOrt / msOurs[i]!, note: note(same[i]!) })), // prettier-ignore
    ];
  } finally {
    await session.release();
  }
}
