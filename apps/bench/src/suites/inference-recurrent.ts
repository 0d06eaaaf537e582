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
import { numThreads } from '@nl/native';
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

const argmax = (row: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
};

/** A model, its step graph and its start feeds (state name → tensor; outputs are `<name>_out…`). */
interface StepExport {
  name: string;
  model: DeltaNetLM | TitansLM;
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

async function rowsFor(e: StepExport, o: { tokens: number; runs: number }): Promise<Row[]> {
  const session = await ort.InferenceSession.create(e.graph, {
    executionProviders: ['cpu'],
    intraOpNumThreads: numThreads(), // as many threads as our CPU kernels use
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  // deltanet: the fused native decoder and the tensor-op one; titans: its tensor-op decoder
  const variants: (boolean | undefined)[] = e.name === 'deltanet-tiny' ? [true, false] : [undefined];
  const ours = (fused?: boolean) => (): number[] => {
    const dec = fused === undefined ? e.model.decoder() : (e.model as DeltaNetLM).decoder({ fused });
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
    const feeds = e.start();
    const names = Object.keys(feeds);
    const out: number[] = [];
    let next = 84;
    for (let t = 0; t < o.tokens; t++) {
      feeds.ids = new ort.Tensor('int32', Int32Array.of(next), [1, 1]);
      const r = await session.run(feeds);
      out.push((next = argmax(r.logits!.data as Float32Array)));
      for (const n of names) feeds[n] = r[e.outName(n)]!;
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
  const b = await ortDecode();
  const same = variants.map((f) => ours(f)().every((x, i) => x === b[i]));
  const msOurs: number[] = [];
  for (const f of variants) msOurs.push(await best(ours(f)));
  const msOrt = await best(ortDecode);
  await session.release();
  e.model.dispose();
  const rate = (ms: number) => (o.tokens / ms) * 1000;
  const kase = `${e.name} greedy decode, ${o.tokens} tokens`;
  const note = (ok: boolean) => (ok ? 'same tokens' : 'TOKENS DIFFER');
  const impl = (f: boolean | undefined) =>
    f === undefined ? '@nl/hope decoder' : f ? '@nl/hope decoder (fused native block)' : '@nl/hope decoder (tensor ops, unfused)'; // prettier-ignore
  return [
    { suite: 'inference', case: kase, impl: 'onnxruntime-node (exported step graph)', rate: rate(msOrt), unit: 'tok/s', medianMs: msOrt, ratio: 1, note: note(same.every(Boolean)) }, // prettier-ignore
    ...variants.map((f, i): Row => ({ suite: 'inference', case: kase, impl: impl(f), rate: rate(msOurs[i]!), unit: 'tok/s', medianMs: msOurs[i]!, ratio: msOrt / msOurs[i]!, note: note(same[i]!) })), // prettier-ignore
  ];
}

/** deltanet-tiny and titans-tiny greedy decode: per model the ORT row (ratio 1) and ours (ORT ms / ours). */
export async function recurrentInferenceRows(o: { tokens: number; runs: number }): Promise<Row[]> {
  return [...(await rowsFor(deltanet(), o)), ...(await rowsFor(titans(), o))];
}
