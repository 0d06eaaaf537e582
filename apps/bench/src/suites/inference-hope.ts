/**
 * Inference rows for hope-tiny (random weights, byte vocabulary): greedy decoding one token at a
 * time with our HopeDecoder vs the model's ONNX 'step' graph (`exportHopeOnnx`: the whole fast
 * state — memory weights, momenta, snapshots, conv caches, CMS Δ — fed back as inputs each token,
 * so the memories keep learning inside the graph) run by onnxruntime-node on the CPU. Both generate
 * the same tokens (checked), so the rows compare tokens/s of the same computation.
 */
import * as ort from 'onnxruntime-node';
import { exportHopeOnnx, hopeOnnxState, hopePreset, hopeStateNames, HopeLM } from '@nl/hope';
import type { Row } from '../harness.js';
import { greedyDecodeRows, type DecodeOptions } from './inference-decode.js';

/** hope-tiny greedy decode, `tokens` tokens: the ORT row (ratio 1) and ours (ratio ORT ms / ours). */
export async function hopeInferenceRows(o: DecodeOptions): Promise<Row[]> {
  const model = new HopeLM(hopePreset('hope-tiny', { seed: 0 }));
  const names = hopeStateNames(model);
  const state = hopeOnnxState(model);
  const step = {
    graph: exportHopeOnnx(model, { mode: 'step' }),
    start: () => {
      const feeds: Record<string, ort.Tensor> = {};
      for (const n of names) {
        const v = state[n]!;
        feeds[n] =
          v.data instanceof BigInt64Array
            ? new ort.Tensor('int64', v.data, v.dims)
            : new ort.Tensor('float32', v.data, v.dims);
      }
      return feeds;
    },
    outName: (n: string) => `${n}_out`,
  };
  const rows = await greedyDecodeRows(
    `hope-tiny greedy decode, ${o.tokens} tokens`,
    step,
    [{ impl: '@nl/hope decoder', open: () => model.decoder() }],
    o,
  );
  model.dispose();
  return rows;
}
