/**
 * Suite `transformer`: transformer-tiny (@nl/hope preset: V 256, d 128, 4 layers, 4 heads, SwiGLU)
 * on the CPU — a train step (forward, next-token cross-entropy, backward, AdamW) at B×T and
 * batch-1 decode with a KV cache (`model.decoder()`, a fresh decoder per timed run: the fused native
 * block decoder, and the tensor-op decoder as a second row) — beside the
 * same model in PyTorch eager (peers/torch_transformer.py via torch_cpu.py, same threads) measured
 * in the same run when torch is importable; rows without it say why. Ratio = ours / torch; both
 * parameter counts are printed (they must match for the comparison to be of the same model).
 */
import * as T from '@nl/tensor';
import { numThreads } from '@nl/native';
import { AdamW } from '@nl/optim';
import { buildModel, preset, type TransformerLM } from '@nl/hope';
import { measure, type Row } from '../harness.js';
import { peerNote, runPeer } from '../peers.js';
import { poolLimitRows, type PoolRowsOptions } from './transformer-pool.js';

export interface TransformerSuiteOptions {
  batch: number;
  seq: number;
  /** Tokens fed one at a time per timed decode run. */
  decodeTokens: number;
  timeMs: number;
  /** The buffer-pool rows (transformer-pool.ts). */
  pool: PoolRowsOptions;
}

interface TorchTransformer {
  transformer?: { trainMs: number; trainTokS: number; decodeTokS: number; params: number };
}

export async function transformerSuite(o: TransformerSuiteOptions): Promise<Row[]> {
  const model = buildModel(preset('transformer', 'tiny', { seed: 0 }));
  const ours = model.parameters().reduce((s, p) => s + p.numel, 0);
  const peer = runPeer<TorchTransformer>('torch_cpu.py', {
    threads: numThreads(),
    timeMs: o.timeMs,
    transformer: { config: { ...model.config }, batch: o.batch, seq: o.seq, decodeTokens: o.decodeTokens },
  });
  const pt = peer.transformer;
  const sameSize = pt && pt.params !== ours ? `PARAMETER COUNTS DIFFER: ` : '';
  const params = `params ours ${ours}, torch ${pt?.params ?? '-'}`;
  const note = pt ? `${sameSize}${params}; ${peerNote(peer)}` : peerNote(peer);

  const ids = T.randint(0, 256, [o.batch, o.seq + 1]);
  const opt = new AdamW(model.parameters(), { lr: 1e-3 });
  const tm = await measure(
    () => {
      model.lossAndBackward(ids);
      opt.step();
      opt.zeroGrad();
    },
    { timeMs: o.timeMs, iterations: 2 },
  );
  const ourTrain = (o.batch * o.seq) / (tm.medianMs / 1e3);
  const tokens = new Int32Array(o.decodeTokens).map((_, i) => (i * 31) % 256);
  const decodeRun = (fused: boolean) => () => {
    const dec = (model as TransformerLM).decoder({ fused });
    for (let i = 0; i < tokens.length; i++) dec.feed(tokens.subarray(i, i + 1));
    dec.dispose();
  };
  const dm = await measure(decodeRun(true), { timeMs: o.timeMs, iterations: 2 });
  const um = await measure(decodeRun(false), { timeMs: o.timeMs, iterations: 2 });
  const plainDec = o.decodeTokens / (um.medianMs / 1e3);
  const ourDec = o.decodeTokens / (dm.medianMs / 1e3);
  ids.dispose();
  opt.dispose?.();
  model.dispose?.();

  const train = `transformer-tiny train step B${o.batch} T${o.seq} (AdamW)`;
  const decode = `transformer-tiny decode batch 1, ${o.decodeTokens} tokens`;
  const decMs = pt ? (o.decodeTokens / pt.decodeTokS) * 1e3 : null;
  const poolRows = await poolLimitRows(o.pool);
  return [
    { suite: 'transformer', case: train, impl: '@nl/hope (cpu)', rate: ourTrain, unit: 'tok/s', medianMs: tm.medianMs, ratio: 1, note: `params ${ours}` }, // prettier-ignore
    { suite: 'transformer', case: train, impl: 'torch eager (same shape)', rate: pt?.trainTokS ?? null, unit: 'tok/s', medianMs: pt?.trainMs ?? null, ratio: pt ? ourTrain / pt.trainTokS : null, note }, // prettier-ignore
    { suite: 'transformer', case: decode, impl: '@nl/hope decoder (fused native block, KV cache)', rate: ourDec, unit: 'tok/s', medianMs: dm.medianMs, ratio: 1 }, // prettier-ignore
    { suite: 'transformer', case: decode, impl: '@nl/hope decoder (tensor ops, unfused)', rate: plainDec, unit: 'tok/s', medianMs: um.medianMs, ratio: pt ? plainDec / pt.decodeTokS : null, note: 'ratio: this row / torch eager' }, // prettier-ignore
    { suite: 'transformer', case: decode, impl: 'torch eager, KV cache, no_grad', rate: pt?.decodeTokS ?? null, unit: 'tok/s', medianMs: decMs, ratio: pt ? ourDec / pt.decodeTokS : null, note }, // prettier-ignore
    ...poolRows,
  ];
}
