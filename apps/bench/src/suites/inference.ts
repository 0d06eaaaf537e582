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
import { buildModel, exportTransformerOnnx, preset, type TransformerLM } from '@nl/hope';
import type { Row } from '../harness.js';
import { greedyDecodeRows, type DecodeOptions } from './inference-decode.js';
import { hopeInferenceRows } from './inference-hope.js';
import { recurrentInferenceRows } from './inference-recurrent.js';

export type InferenceOptions = DecodeOptions;

export async function inferenceSuite(o: InferenceOptions): Promise<Row[]> {
  const model = buildModel(preset('transformer', 'tiny', { seed: 0 })) as TransformerLM;
  const { heads: H, dim: D, layers: L } = model.config;
  const step = {
    graph: exportTransformerOnnx(model, { mode: 'step', maxLen: o.tokens + 2 }),
    start: () => {
      const feeds: Record<string, ort.Tensor> = {};
      for (let l = 0; l < L; l++)
        for (const kv of ['key', 'value'])
          feeds[`past_${kv}_${l}`] = new ort.Tensor('float32', new Float32Array(0), [1, H, 0, D / H]);
      return feeds;
    },
    outName: (n: string) => n.replace(/^past_/, 'present_'),
  };
  const rows = await greedyDecodeRows(
    `transformer-tiny greedy decode, ${o.tokens} tokens`,
    step,
    [
      { impl: '@nl/hope decoder (fused native block)', open: () => model.decoder({ fused: true }) },
      { impl: '@nl/hope decoder (tensor ops, unfused)', open: () => model.decoder({ fused: false }) },
    ],
    o,
  );
  model.dispose();
  return [
    ...rows,
    ...(await hopeInferenceRows(o)), // hope-tiny: the memories keep learning inside the step graph
    ...(await recurrentInferenceRows(o)), // deltanet-tiny, titans-tiny: memory state in and out
  ];
}
