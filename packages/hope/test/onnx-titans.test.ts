/**
 * TitansLM exported to ONNX and run by onnxruntime-node (CPU): the 'step' graph, fed its own conv
 * caches and memory state (MLP weights, momenta, chunk-start anchors, position), gives our decoder's
 * logits and our blocks' streaming memory state token by token across several chunk boundaries;
 * the 'forward' graph (a Loop over time of the step) gives model.forward's logits at batch 2 for
 * sequences shorter and longer than the memory chunk (the model runs the fused chunk kernel).
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { tensor } from '@nl/tensor';
import {
  TITANS_STATE_NAMES,
  buildModel,
  exportTitansOnnx,
  initialTitansState,
  preset,
  type TitansLM,
} from '../src/index.js';
import { data, f32, i32, maxRelErr, streamTokenByToken } from './onnx-helpers.js';

const [L, D, H, K, V, C, M] = [2, 32, 4, 4, 256, 4, 12];
const Dh = D / H;
// gates raised from the tiny defaults so the memory moves visibly within a few tokens
const config = preset('titans', 'tiny', {
  ...{ dim: D, layers: L, heads: H, mlpHidden: 48, seed: 5, chunkSize: C, memoryHidden: M },
  ...{ thetaMax: 0.8, thetaInit: 0.4, alphaMax: 0.2, alphaInit: 0.05, memoryInitStd: 0.3 },
});
const model = buildModel(config) as TitansLM;
const idsOf = (n: number, salt: number) => Int32Array.from({ length: n }, (_, i) => (i * 41 + salt) % V);
const dimsOf = {
  conv: [1, K - 1, 3 * D],
  w1: [1, H, Dh, M],
  w2: [1, H, M, Dh],
  s1: [1, H, Dh, M],
  s2: [1, H, M, Dh],
  a1: [1, H, Dh, M],
  a2: [1, H, M, Dh],
};

describe('ONNX export (TitansLM) run by onnxruntime-node', () => {
  it(`step graph token by token == our decoder (logits) and our blocks' memory state, across chunks of ${C}`, async () => {
    const T = 11;
    const ids = idsOf(T, 3);
    const ours = streamTokenByToken(model, ids);
    const decoder = model.decoder();
    const session = await ort.InferenceSession.create(exportTitansOnnx(model, { mode: 'step' }));
    const feeds: Record<string, ort.Tensor> = { position: new ort.Tensor('int64', BigInt64Array.of(0n), []) };
    for (let l = 0; l < L; l++) {
      const s0 = initialTitansState(model, l);
      for (const n of TITANS_STATE_NAMES) feeds[`${n}_${l}`] = f32(s0[n], dimsOf[n]);
    }
    let moved = 0;
    for (let t = 0; t < T; t++) {
      feeds.ids = i32(Int32Array.of(ids[t]!), [1, 1]);
      const out = await session.run(feeds);
      expect(maxRelErr(data(out.logits), decoder.feed(Int32Array.of(ids[t]!)))).toBeLessThan(1e-4);
      expect(maxRelErr(data(out.logits), ours[t]!.logits)).toBeLessThan(1e-4);
      expect(Number((out.position_out!.data as BigInt64Array)[0])).toBe(t + 1);
      for (let l = 0; l < L; l++) {
        const cache = ours[t]!.caches[l]!;
        expect(cache.tokens).toBe(t + 1);
        expect(maxRelErr(data(out[`conv_out_${l}`]), cache.conv)).toBeLessThan(1e-5);
        for (const n of TITANS_STATE_NAMES.slice(1))
          expect(maxRelErr(data(out[`${n}_out_${l}`]), cache.mem[n]!), `${n} block ${l} token ${t}`).toBeLessThan(1e-4); // prettier-ignore
        for (const n of TITANS_STATE_NAMES) feeds[`${n}_${l}`] = out[`${n}_out_${l}`]!;
      }
      feeds.position = out.position_out!;
      const w0 = initialTitansState(model, 0).w1;
      moved = Math.max(moved, maxRelErr(data(out.w1_out_0), w0));
    }
    expect(moved).toBeGreaterThan(1e-3); // the memory learned in the graph
    // the forward graph's final states == the step graph's after the same tokens
    const fwd = await ort.InferenceSession.create(exportTitansOnnx(model, { mode: 'forward' }));
    const pre = await fwd.run({ ids: i32(ids, [1, T]) });
    expect(Number((pre.position_out!.data as BigInt64Array)[0])).toBe(T);
    for (let l = 0; l < L; l++)
      for (const n of TITANS_STATE_NAMES)
        expect(maxRelErr(data(pre[`${n}_out_${l}`]), data(feeds[`${n}_${l}`]))).toBeLessThan(1e-4);
    decoder.dispose();
    await Promise.all([session.release(), fwd.release()]);
  });

  it(`forward graph == model.forward at batch 2, T < chunk (${C}) and T > chunk`, async () => {
    const session = await ort.InferenceSession.create(exportTitansOnnx(model, { mode: 'forward' }));
    for (const T of [3, 13]) {
      const ids = idsOf(2 * T, 9 + T);
      const want = model.forward(tensor(ids, { shape: [2, T], dtype: 'int32' })).dataSync();
      const out = await session.run({ ids: i32(ids, [2, T]) });
      expect(out.logits!.dims).toEqual([2, T, V]);
      expect(maxRelErr(data(out.logits), want)).toBeLessThan(1e-4);
    }
    await session.release();
  });

  it('refuses what it cannot export, naming the option', () => {
    const f64 = buildModel({ ...config, dtype: 'float64' }) as TitansLM;
    expect(() => exportTitansOnnx(f64, { mode: 'step' })).toThrow(TypeError);
    expect(() => exportTitansOnnx(f64, { mode: 'forward' })).toThrow(/dtype: float32 models only/);
    expect(() => exportTitansOnnx(model, { mode: 'prefill' as never })).toThrow(/mode must be/);
    expect(() => initialTitansState(model, L)).toThrow(/no block 2/);
  });
});
