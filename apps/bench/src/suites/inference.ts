/**
 * Inference: greedy decoding of transformer-tiny (random weights, byte vocabulary) one token at a
 * time — our streaming decoder (`model.decoder().feed`: the fused native block decoder, and the
 * tensor-op decoder with its KV cache in @nl/tensor as a second row) vs the same model
 * exported to ONNX (`exportTransformerOnnx`, 'step' graph with the KV cache as inputs/outputs) run
 * by onnxruntime-node on the CPU. Both generate the same tokens (checked), so the rows compare
 * tokens/s of the same computation. Then the same for hope-tiny (inference-hope.ts) and for
 * deltanet-tiny and titans-tiny (inference-recurrent.ts).
 */
import * as ort from 'onnxruntime-node';
import { numThreads } from '@nl/native';
import { buildModel, exportTransformerOnnx, preset, type TransformerLM } from '@nl/hope';
import type { Row } from '../harness.js';
import { hopeInferenceRows } from './inference-hope.js';
import { recurrentInferenceRows } from './inference-recurrent.js';

export interface InferenceOptions {
  /** Tokens generated per timed run (after a one-token prompt). */
  tokens: number;
  /** Timed runs per implementation (the best is reported). */
  runs: number;
}

const argmax = (row: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
};

export async function inferenceSuite(o: InferenceOptions): Promise<Row[]> {
  const model = buildModel(preset('transformer', 'tiny', { seed: 0 })) as TransformerLM;
  const { heads: H, dim: D, layers: L } = model.config;
  const session = await ort.InferenceSession.create(
    exportTransformerOnnx(model, { mode: 'step', maxLen: o.tokens + 2 }),
    {
      executionProviders: ['cpu'],
      intraOpNumThreads: numThreads(), // as many threads as our CPU kernels use
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    },
  );

  const ours =
    (fused = true) =>
    (): number[] => {
      const dec = model.decoder({ fused });
      try {
        const out: number[] = [];
        let next = 84; // 'T'
        for (let t = 0; t < o.tokens; t++) out.push((next = argmax(dec.feed(Int32Array.of(next)))));
        return out;
      } finally {
        dec.dispose();
      }
    };
  const ortDecode = async (): Promise<number[]> => {
    const feeds: Record<string, ort.Tensor> = {};
    for (let l = 0; l < L; l++)
      for (const kv of ['key', 'value'])
        feeds[`past_${kv}_${l}`] = new ort.Tensor('float32', new Float32Array(0), [1, H, 0, D / H]);
    const out: number[] = [];
    let next = 84;
    for (let t = 0; t < o.tokens; t++) {
      feeds.ids = new ort.Tensor('int32', Int32Array.of(next), [1, 1]);
      const r = await session.run(feeds);
      out.push((next = argmax(r.logits!.data as Float32Array)));
      for (let l = 0; l < L; l++)
        for (const kv of ['key', 'value']) feeds[`past_${kv}_${l}`] = r[`present_${kv}_${l}`]!;
    }
    return out;
  };

  const best = async (fn: () => unknown): Promise<number> => {
    let ms = Infinity;
    for (let i = 0; i < o.runs; i++) {
      const t0 = performance.now();
      await fn();
      ms = Math.min(ms, performance.now() - t0);
    }
    return ms;
  };
  const [a, b, c] = [ours()(), await ortDecode(), ours(false)()];
  const same = a.every((x, i) => x === b[i]);
  const samePlain = c.every((x, i) => x === b[i]);
  const msOurs = await best(ours());
  const msPlain = await best(ours(false));
  const msOrt = await best(ortDecode);
  await session.release();
  model.dispose();
  const rate = (ms: number) => (o.tokens / ms) * 1000;
  const kase = `transformer-tiny greedy decode, ${o.tokens} tokens`;
  const note = same ? 'same tokens' : 'TOKENS DIFFER';
  return [
    { suite: 'inference', case: kase, impl: 'onnxruntime-node (exported step graph)', rate: rate(msOrt), unit: 'tok/s', medianMs: msOrt, ratio: 1, note }, // prettier-ignore
    { suite: 'inference', case: kase, impl: '@nl/hope decoder (fused native block)', rate: rate(msOurs), unit: 'tok/s', medianMs: msOurs, ratio: msOrt / msOurs, note }, // prettier-ignore
    { suite: 'inference', case: kase, impl: '@nl/hope decoder (tensor ops, unfused)', rate: rate(msPlain), unit: 'tok/s', medianMs: msPlain, ratio: msOrt / msPlain, note: samePlain ? 'same tokens' : 'TOKENS DIFFER' }, // prettier-ignore
    ...(await hopeInferenceRows(o)), // hope-tiny: the memories keep learning inside the step graph
    ...(await recurrentInferenceRows(o)), // deltanet-tiny, titans-tiny: memory state in and out
  ];
}
