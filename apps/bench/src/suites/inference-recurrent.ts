/**
 * Inference rows for deltanet-tiny and titans-tiny (random weights, byte vocabulary): greedy
 * decoding one token at a time with our decoders (deltanet: the fused native block decoder and the
 * tensor-op StreamDecoder; titans: the StreamDecoder) vs the model's ONNX 'step' graph
 * (`exportDeltaNetOnnx` / `exportTitansOnnx`: conv caches and the memory state — DeltaNet's M;
 * Titans' MLP weights, momenta, chunk anchors and position — fed back as inputs each token, so the
 * memory keeps writing inside the graph) run by onnxruntime-node on the CPU. Both generate the
 * same tokens (checked), so the rows compare tokens/s of the same computation.
 */
import * as ort from 'onnxruntime-node';
import {
  buildModel,
  exportDeltaNetOnnx,
  exportTitansOnnx,
  initialDeltaNetState,
  initialTitansState,
  preset,
  TITANS_STATE_NAMES,
  type DeltaNetLM,
  type TitansLM,
} from '@nl/hope';
import type { Row } from '../harness.js';
import { greedyDecodeRows, type DecodeOptions, type OurDecoder } from './inference-decode.js';

/** A model, its step graph and its start feeds (state name → tensor; outputs are `<name>_out…`). */
interface StepExport {
  name: string;
  model: DeltaNetLM | TitansLM;
  /** Our decoders of the model, one row each. */
  decoders: OurDecoder[];
  graph: Uint8Array;
  start: () => Record<string, ort.Tensor>;
  /** The output that feeds input `name` next step. */
  outName: (input: string) => string;
}

function deltanet(): StepExport {
  const model = buildModel(preset('deltanet', 'tiny', { seed: 0 })) as DeltaNetLM;
  const { convSize: K, dim: D, heads: H, layers: L } = model.config;
  return {
    name: 'deltanet-tiny',
    model,
    decoders: [
      { impl: '@nl/hope decoder (fused native block)', open: () => model.decoder({ fused: true }) },
      { impl: '@nl/hope decoder (tensor ops, unfused)', open: () => model.decoder({ fused: false }) },
    ],
    graph: exportDeltaNetOnnx(model, { mode: 'step' }),
    start: () => {
      const feeds: Record<string, ort.Tensor> = {};
      for (let l = 0; l < L; l++) {
        const s = initialDeltaNetState(model, l);
        feeds[`conv_${l}`] = new ort.Tensor('float32', s.conv, [1, K - 1, 3 * D]);
        feeds[`state_${l}`] = new ort.Tensor('float32', s.state, [1, H, D / H, D / H]);
      }
      return feeds;
    },
    outName: (n) => n.replace(/_(\d+)$/, '_out_$1'),
  };
}

function titans(): StepExport {
  const model = buildModel(preset('titans', 'tiny', { seed: 0 })) as TitansLM;
  const { convSize: K, dim: D, heads: H, layers: L, memoryHidden: M } = model.config;
  const Dh = D / H;
  const dims = { conv: [1, K - 1, 3 * D], w1: [1, H, Dh, M], w2: [1, H, M, Dh] };
  return {
    name: 'titans-tiny',
    model,
    decoders: [{ impl: '@nl/hope decoder', open: () => model.decoder() }],
    graph: exportTitansOnnx(model, { mode: 'step' }),
    start: () => {
      const feeds: Record<string, ort.Tensor> = {
        position: new ort.Tensor('int64', BigInt64Array.of(0n), []),
      };
      for (let l = 0; l < L; l++) {
        const s = initialTitansState(model, l);
        for (const n of TITANS_STATE_NAMES)
          feeds[`${n}_${l}`] = new ort.Tensor('float32', s[n], n === 'conv' ? dims.conv : n.endsWith('1') ? dims.w1 : dims.w2); // prettier-ignore
      }
      return feeds;
    },
    outName: (n) => (n === 'position' ? 'position_out' : n.replace(/_(\d+)$/, '_out_$1')),
  };
}

async function rowsFor(e: StepExport, o: DecodeOptions): Promise<Row[]> {
  const rows = await greedyDecodeRows(`${e.name} greedy decode, ${o.tokens} tokens`, e, e.decoders, o);
  e.model.dispose();
  return rows;
}

/** deltanet-tiny and titans-tiny greedy decode: per model the ORT row (ratio 1) and ours (ORT ms / ours). */
export async function recurrentInferenceRows(o: DecodeOptions): Promise<Row[]> {
  return [...(await rowsFor(deltanet(), o)), ...(await rowsFor(titans(), o))];
}
