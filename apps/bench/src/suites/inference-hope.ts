/**
 * Inference rows for hope-tiny (random weights, byte vocabulary): greedy decoding one token at a
 * time with our HopeDecoder vs the model's ONNX 'step' graph (`exportHopeOnnx`: the whole fast
 * state — memory weights, momenta, snapshots, conv caches, CMS Δ — fed back as inputs each token,
 * so the memories keep learning inside the graph) run by onnxruntime-node on the CPU. Both generate
 * the same tokens (checked), so the rows compare tokens/s of the same computation.
 */
import * as ort from 'onnxruntime-node';
import { numThreads } from '@nl/native';
import { exportHopeOnnx, hopeOnnxState, hopePreset, hopeStateNames, HopeLM } from '@nl/hope';
import type { Row } from '../harness.js';

const argmax = (row: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
};

/** hope-tiny greedy decode, `tokens` tokens: the ORT row (ratio 1) and ours (ratio ORT ms / ours). */
export async function hopeInferenceRows(o: { tokens: number; runs: number }): Promise<Row[]> {
  const model = new HopeLM(hopePreset('hope-tiny', { seed: 0 }));
  const session = await ort.InferenceSession.create(exportHopeOnnx(model, { mode: 'step' }), {
    executionProviders: ['cpu'],
    intraOpNumThreads: numThreads(), // as many threads as our CPU kernels use
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const names = hopeStateNames(model);
  const start = hopeOnnxState(model);

  const ours = (): number[] => {
    const dec = model.decoder();
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
    for (const n of names) {
      const v = start[n]!;
      feeds[n] =
        v.data instanceof BigInt64Array
          ? new ort.Tensor('int64', v.data, v.dims)
          : new ort.Tensor('float32', v.data, v.dims);
    }
    const out: number[] = [];
    let next = 84;
    for (let t = 0; t < o.tokens; t++) {
      feeds.ids = new ort.Tensor('int32', Int32Array.of(next), [1, 1]);
      const r = await session.run(feeds);
      out.push((next = argmax(r.logits!.data as Float32Array)));
      for (const n of names) feeds[n] = r[`${n}_out`]!;
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
  const [a, b] = [ours(), await ortDecode()];
  const same = a.every((x, i) => x === b[i]);
  const msOurs = await best(ours);
  const msOrt = await best(ortDecode);
  await session.release();
  model.dispose();
  const rate = (ms: number) => (o.tokens / ms) * 1000;
  const kase = `hope-tiny greedy decode, ${o.tokens} tokens`;
  const note = same ? 'same tokens' : 'TOKENS DIFFER';
  return [
    { suite: 'inference', case: kase, impl: 'onnxruntime-node (exported step graph)', rate: rate(msOrt), unit: 'tok/s', medianMs: msOrt, ratio: 1, note }, // prettier-ignore
    { suite: 'inference', case: kase, impl: '@nl/hope decoder', rate: rate(msOurs), unit: 'tok/s', medianMs: msOurs, ratio: msOrt / msOurs, note }, // prettier-ignore
  ];
}
