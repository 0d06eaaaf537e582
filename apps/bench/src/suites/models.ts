/**
 * Suite `models`: the four tiny models side by side in one run, as a user would compare them —
 * tokens/s of a train step (next-token cross-entropy forward + backward + AdamW at B×T, byte
 * vocabulary) and of batch-1 greedy-free decoding (`model.decoder()`, the default decoder each
 * model gives: fused native where it has one). Models are timed in interleaved rounds and each
 * keeps its best round, so a load change during the run hits every model alike. Ratios are
 * against transformer-tiny (issue 13's targets: hope-tiny train ≥ 0.5×, every decode ≥ 5,000 tok/s).
 */
import * as T from '@nl/tensor';
import { AdamW } from '@nl/optim';
import { buildModel, hopePreset, preset, type LanguageModel, type ModelConfigInput } from '@nl/hope';
import type { Row } from '../harness.js';

export interface ModelsSuiteOptions {
  batch: number;
  seq: number;
  /** Train steps per timed round (after one warm-up step). */
  trainSteps: number;
  /** Tokens fed one at a time per timed decode round. */
  decodeTokens: number;
  rounds: number;
  /** Models to compare (default the four tiny ones). */
  kinds?: ModelKindName[];
}

export type ModelKindName = 'transformer' | 'deltanet' | 'titans' | 'hope';
export const MODEL_KINDS: ModelKindName[] = ['transformer', 'deltanet', 'titans', 'hope'];

/** The tiny preset of a kind (hope-tiny is Hope's own preset; the others share the tiny shell). */
export function tinyModel(kind: ModelKindName, seed = 0): LanguageModel {
  const cfg: ModelConfigInput =
    kind === 'hope'
      ? (hopePreset('hope-tiny', { seed }) as ModelConfigInput)
      : preset(kind, 'tiny', { seed });
  return buildModel(cfg);
}

interface Timed {
  kind: ModelKindName;
  model: LanguageModel;
  params: number;
  trainMs: number;
  decodeMs: number;
  decoderName: string;
}

const best = (a: number, b: number): number => Math.min(a, b);

function timeTrain(m: LanguageModel, ids: T.Tensor, opt: AdamW, steps: number): number {
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    m.lossAndBackward(ids);
    opt.step();
    opt.zeroGrad();
  }
  return (performance.now() - t0) / steps;
}

function timeDecode(m: LanguageModel, tokens: Int32Array): { ms: number; name: string } {
  const dec = m.decoder();
  const name = dec.constructor.name;
  const t0 = performance.now();
  for (let i = 0; i < tokens.length; i++) dec.feed(tokens.subarray(i, i + 1));
  const ms = performance.now() - t0;
  dec.dispose();
  return { ms, name };
}

export function modelsSuite(o: ModelsSuiteOptions): Promise<Row[]> {
  const kinds = o.kinds ?? MODEL_KINDS;
  const ids = T.randint(0, 256, [o.batch, o.seq + 1]);
  const tokens = new Int32Array(o.decodeTokens).map((_, i) => (i * 31 + 7) % 256);
  const timed: Timed[] = kinds.map((kind) => {
    const model = tinyModel(kind);
    return {
      kind,
      model,
      params: model.parameters().reduce((s, p) => s + p.numel, 0),
      trainMs: Infinity,
      decodeMs: Infinity,
      decoderName: '',
    };
  });
  const opts = timed.map((t) => new AdamW(t.model.parameters(), { lr: 1e-3 }));
  timed.forEach((t, i) => timeTrain(t.model, ids, opts[i]!, 1)); // warm-up (kernels, pools)
  for (let r = 0; r < o.rounds; r++) {
    timed.forEach((t, i) => {
      t.trainMs = best(t.trainMs, timeTrain(t.model, ids, opts[i]!, o.trainSteps));
      const d = timeDecode(t.model, tokens);
      t.decodeMs = best(t.decodeMs, d.ms);
      t.decoderName = d.name;
    });
  }
  ids.dispose();
  opts.forEach((x) => x.dispose?.());
  const tok = o.batch * o.seq;
  const ref = timed.find((t) => t.kind === 'transformer') ?? timed[0]!;
  const trainRate = (t: Timed): number => tok / (t.trainMs / 1e3);
  const decodeRate = (t: Timed): number => o.decodeTokens / (t.decodeMs / 1e3);
  const train = `train step B${o.batch} T${o.seq} (fwd + bwd + AdamW), best of ${o.rounds}`;
  const decode = `decode batch 1, ${o.decodeTokens} tokens one at a time, best of ${o.rounds}`;
  const rows: Row[] = [];
  for (const t of timed)
    rows.push({ suite: 'models', case: train, impl: `${t.kind}-tiny`, rate: trainRate(t), unit: 'tok/s', medianMs: t.trainMs, ratio: trainRate(t) / trainRate(ref), note: `params ${t.params}` }); // prettier-ignore
  for (const t of timed)
    rows.push({ suite: 'models', case: decode, impl: `${t.kind}-tiny`, rate: decodeRate(t), unit: 'tok/s', medianMs: t.decodeMs, ratio: decodeRate(t) / decodeRate(ref), note: `decoder ${t.decoderName}` }); // prettier-ignore
  for (const t of timed) t.model.dispose?.();
  return Promise.resolve(rows);
}
