/**
 * TransformerLM exported to ONNX and run by onnxruntime-node (CPU): the full-sequence graph gives
 * the model's logits, and the one-token step graph, fed its own KV cache back, gives the
 * teacher-forced logits token by token (float32 tolerance). The recurrent models' exports are
 * tested in onnx-deltanet.test.ts and onnx-titans.test.ts.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { tensor } from '@nl/tensor';
import { buildModel, exportTransformerOnnx, preset, type TransformerLM } from '../src/index.js';

const config = preset('transformer', 'tiny', { dim: 32, layers: 2, heads: 4, mlpHidden: 48, seed: 3 });

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  let err = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
  }
  return err / scale;
}

describe('ONNX export (TransformerLM) run by onnxruntime-node', () => {
  const model = buildModel(config) as TransformerLM;
  const [B, T, V] = [2, 7, 256];
  const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 37 + 11) % V);
  const want = model.forward(tensor(ids, { shape: [B, T], dtype: 'int32' })).dataSync(); // [B, T, V]

  it('forward graph == model.forward logits (any batch and length)', async () => {
    const session = await ort.InferenceSession.create(
      exportTransformerOnnx(model, { mode: 'forward', maxLen: 64 }),
    );
    const out = await session.run({ ids: new ort.Tensor('int32', ids, [B, T]) });
    expect(out.logits!.dims).toEqual([B, T, V]);
    expect(maxRelErr(out.logits!.data as Float32Array, want)).toBeLessThan(1e-5);
    const short = await session.run({ ids: new ort.Tensor('int32', ids.slice(0, 3), [1, 3]) });
    expect(maxRelErr(short.logits!.data as Float32Array, want.slice(0, 3 * V))).toBeLessThan(1e-5);
    await session.release();
  });

  it('step graph with its KV cache == teacher-forced logits, token by token', async () => {
    const session = await ort.InferenceSession.create(
      exportTransformerOnnx(model, { mode: 'step', maxLen: 64 }),
    );
    const H = 4;
    const Dh = 32 / H;
    const feeds: Record<string, ort.Tensor> = {};
    for (let l = 0; l < 2; l++) {
      feeds[`past_key_${l}`] = new ort.Tensor('float32', new Float32Array(0), [1, H, 0, Dh]);
      feeds[`past_value_${l}`] = new ort.Tensor('float32', new Float32Array(0), [1, H, 0, Dh]);
    }
    for (let t = 0; t < T; t++) {
      feeds.ids = new ort.Tensor('int32', Int32Array.of(ids[t]!), [1, 1]);
      const out = await session.run(feeds);
      expect(out.present_key_0!.dims).toEqual([1, H, t + 1, Dh]);
      expect(maxRelErr(out.logits!.data as Float32Array, want.slice(t * V, (t + 1) * V))).toBeLessThan(1e-5);
      for (let l = 0; l < 2; l++) {
        feeds[`past_key_${l}`] = out[`present_key_${l}`]!;
        feeds[`past_value_${l}`] = out[`present_value_${l}`]!;
      }
    }
    await session.release();
  });

  it('refuses what it cannot export', () => {
    const f64 = buildModel({ ...config, dtype: 'float64' }) as TransformerLM;
    expect(() => exportTransformerOnnx(f64, { mode: 'forward' })).toThrow(/float32 models only/);
    expect(() => exportTransformerOnnx(model, { mode: 'bogus' as never })).toThrow(/mode must be/);
  });
});
