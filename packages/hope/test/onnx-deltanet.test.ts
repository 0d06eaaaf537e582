/**
 * DeltaNetLM exported to ONNX and run by onnxruntime-node (CPU): the 'forward' graph (a Loop over
 * time of the step) gives model.forward's logits at batch 2 for sequences shorter and longer than
 * the memory's chunk (the model runs the chunked kernel, the graph the token recurrence); the
 * 'step' graph fed its own conv caches and memory states gives our decoder's logits and our blocks'
 * streaming caches token by token (float32 tolerance).
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { tensor } from '@nl/tensor';
import {
  buildModel,
  exportDeltaNetOnnx,
  exportDeltaNetStepOnnx,
  initialDeltaNetState,
  preset,
  type DeltaNetLM,
} from '../src/index.js';
import { data, f32, i32, maxRelErr, streamTokenByToken } from './onnx-helpers.js';

const [L, D, H, K, V, C] = [2, 32, 4, 4, 256, 4];
const Dh = D / H;
const model = buildModel(
  preset('deltanet', 'tiny', { dim: D, layers: L, heads: H, mlpHidden: 48, seed: 3, chunkSize: C }),
) as DeltaNetLM;
const idsOf = (n: number, salt: number) => Int32Array.from({ length: n }, (_, i) => (i * 53 + salt) % V);

describe('ONNX export (DeltaNetLM) run by onnxruntime-node', () => {
  it(`forward graph == model.forward at batch 2, T < chunk (${C}) and T > chunk`, async () => {
    const session = await ort.InferenceSession.create(exportDeltaNetOnnx(model, { mode: 'forward' }));
    for (const T of [3, 11]) {
      const ids = idsOf(2 * T, 7 + T);
      const want = model.forward(tensor(ids, { shape: [2, T], dtype: 'int32' })).dataSync();
      const out = await session.run({ ids: i32(ids, [2, T]) });
      expect(out.logits!.dims).toEqual([2, T, V]);
      expect(maxRelErr(data(out.logits), want)).toBeLessThan(1e-4);
    }
    await session.release();
  });

  it('step graph token by token == our decoder (logits) and our blocks (conv caches, memory states)', async () => {
    const T = 9;
    const ids = idsOf(T, 7);
    const ours = streamTokenByToken(model, ids);
    const decoder = model.decoder();
    const session = await ort.InferenceSession.create(exportDeltaNetStepOnnx(model));
    const feeds: Record<string, ort.Tensor> = {};
    for (let l = 0; l < L; l++) {
      const s0 = initialDeltaNetState(model, l);
      feeds[`conv_${l}`] = f32(s0.conv, [1, K - 1, 3 * D]);
      feeds[`state_${l}`] = f32(s0.state, [1, H, Dh, Dh]);
    }
    let moved = 0;
    for (let t = 0; t < T; t++) {
      feeds.ids = i32(Int32Array.of(ids[t]!), [1, 1]);
      const out = await session.run(feeds);
      expect(maxRelErr(data(out.logits), decoder.feed(Int32Array.of(ids[t]!)))).toBeLessThan(1e-4);
      expect(maxRelErr(data(out.logits), ours[t]!.logits)).toBeLessThan(1e-4);
      for (let l = 0; l < L; l++) {
        const cache = ours[t]!.caches[l]!;
        expect(maxRelErr(data(out[`conv_out_${l}`]), cache.conv)).toBeLessThan(1e-5);
        expect(maxRelErr(data(out[`state_out_${l}`]), cache.mem.m!)).toBeLessThan(1e-4);
        feeds[`conv_${l}`] = out[`conv_out_${l}`]!;
        feeds[`state_${l}`] = out[`state_out_${l}`]!;
      }
      moved = Math.max(moved, ...Array.from(data(out.state_out_0), Math.abs));
    }
    expect(moved).toBeGreaterThan(1e-3); // the memory was written
    // the forward graph's final states == the step graph's after the same tokens (prefill, then step)
    const fwd = await ort.InferenceSession.create(exportDeltaNetOnnx(model, { mode: 'forward' }));
    const pre = await fwd.run({ ids: i32(ids, [1, T]) });
    for (let l = 0; l < L; l++)
      expect(maxRelErr(data(pre[`state_out_${l}`]), data(feeds[`state_${l}`]))).toBeLessThan(1e-4);
    decoder.dispose();
    await Promise.all([session.release(), fwd.release()]);
  });

  it('refuses what it cannot export, naming the option', () => {
    const f64 = buildModel({ ...model.config, dtype: 'float64' }) as DeltaNetLM;
    expect(() => exportDeltaNetOnnx(f64, { mode: 'forward' })).toThrow(TypeError);
    expect(() => exportDeltaNetStepOnnx(f64)).toThrow(/dtype: float32 models only, got float64/);
    expect(() => exportDeltaNetOnnx(model, { mode: 'bogus' as never })).toThrow(/mode must be/);
    expect(() => exportDeltaNetOnnx(model, undefined as never)).toThrow(/mode must be/);
  });
});
