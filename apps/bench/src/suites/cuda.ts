/**
 * `nl-bench --device cuda`: GEMM, an AdamW step, a transformer-tiny train step and decode, the
 * fused memory ops (gated delta rule, Titans MLP: forward + backward, cuda-memory.ts), the fused
 * selfModifyingTitans op and a hope-tiny train step (cuda-hope.ts) on a CUDA device, each beside
 * its PyTorch peer (or the same work on the CPU) measured in the same run on the same GPU when
 * `python3 -c "import torch"` works there (peers/torch_cuda.py). Every timed call ends with a
 * device synchronize, so rates are completed work. On the emulated device (NL_CUDA_EMULATE=1,
 * for smoke runs only) the rates measure the host emulator, not a GPU; rows say so.
 */
import * as T from '@nl/tensor';
import { AdamW } from '@nl/optim';
import { buildModel, preset } from '@nl/hope';
import { measure, type Row } from '../harness.js';
import { cudaMemoryRows, type CudaMemoryBenchOptions } from './cuda-memory.js';
import { cudaHopeRows } from './cuda-hope.js';
import { cudaPeerRows, type CudaPeerOptions } from './cuda-peers.js';
import { cudaHope340mRows } from './cuda-hope340m.js';
import { runPeer } from '../peers.js';

export interface CudaSuiteOptions {
  device: T.Device;
  gemmSizes: number[];
  adamParams: [number, number][];
  train: { batch: number; seq: number } | null;
  decodeTokens: number;
  timeMs: number;
  /** Fused memory-op rows (gated delta rule, Titans linear / MLP; cuda-memory.ts); none when absent. */
  memory?: CudaMemoryBenchOptions;
  /** Hope rows (selfModifyingTitans fwd+bwd, hope-tiny train step; cuda-hope.ts); none when absent. */
  hope?: { batch: number; seq: number };
  /** Memory ops beside torch peers on the same GPU (cuda-peers.ts); none when absent. */
  peers?: CudaPeerOptions;
  /** hope-340m and transformer++ 340M fwd+bwd (cuda-hope340m.ts); null: rows skipped with a note. */
  hope340m?: { batch: number; seq: number } | null;
  /** The array rows are pushed to as they are measured (so a caller can save a cut run's rows). */
  rows?: Row[];
}

interface TorchResult {
  error?: string;
  torch?: string;
  device?: string;
  gemm?: { n: number; fp32: number; tf32: number; bf16: number }[];
  adamw?: { ms: number; params: number } | null;
  transformer?: { trainMs: number; trainTokS: number; decodeTokS: number; params: number };
}

function torchPeers(o: CudaSuiteOptions, modelConfig: Record<string, unknown> | null): TorchResult {
  const transformer =
    modelConfig && o.train ? { config: modelConfig, ...o.train, decodeTokens: o.decodeTokens } : undefined;
  const spec = {
    device: o.device,
    gemm: o.gemmSizes,
    adamw: { params: o.adamParams },
    transformer,
    timeMs: o.timeMs,
  };
  return runPeer<TorchResult>(process.env.NL_TORCH_PEER ?? 'torch_cuda.py', spec, 300_000);
}

const sync = (device: string) => () => T.synchronize(device);

export async function cudaSuite(o: CudaSuiteOptions): Promise<Row[]> {
  const info = T.cudaDeviceInfo(o.device);
  const where = info.emulated ? ' [EMULATED: host emulator, not a GPU]' : '';
  const rows: Row[] = o.rows ?? [];
  const probe = buildModel(preset('transformer', 'tiny'));
  const tinyConfig = { ...probe.config } as Record<string, unknown>;
  probe.dispose?.();
  const peer: TorchResult = info.emulated
    ? { error: 'no peer on the emulated device' }
    : torchPeers(o, tinyConfig);
  const peerNote = peer.error ?? `torch ${peer.torch} on ${peer.device}`;
  const done = sync(o.device);

  for (const n of o.gemmSizes) {
    const a = T.randn([n, n], { device: o.device });
    const b = T.randn([n, n], { device: o.device });
    const flops = 2 * n ** 3;
    const t = peer.gemm?.find((g) => g.n === n);
    const PRECISION = { fp32: 'highest', tf32: 'high', bf16: 'medium' } as const;
    for (const mode of ['fp32', 'tf32', 'bf16'] as const) {
      T.setMatmulPrecision(PRECISION[mode], o.device);
      const m = await measure(
        () => {
          T.matmul(a, b).dispose();
          done();
        },
        { timeMs: o.timeMs },
      );
      const ours = flops / (m.medianMs * 1e6);
      const kase = `gemm ${mode} ${n}²`;
      const how = mode === 'bf16' ? ' (f32 tensors, bf16 operands, fp32 out)' : '';
      rows.push({ suite: 'cuda', case: kase, impl: `@nl ${info.gemm}${how}${where}`, rate: ours, unit: 'GFLOP/s', medianMs: m.medianMs, ratio: 1 }); // prettier-ignore
      const ms = t?.[mode];
      const theirs = ms ? flops / (ms * 1e6) : null;
      const theirHow = mode === 'bf16' ? ' (bf16 tensors, bf16 out)' : '';
      rows.push({ suite: 'cuda', case: kase, impl: `torch.matmul ${mode}${theirHow}`, rate: theirs, unit: 'GFLOP/s', medianMs: ms ?? null, ratio: theirs ? ours / theirs : null, note: theirs ? 'ratio = ours / torch' : peerNote }); // prettier-ignore
    }
    T.setMatmulPrecision('highest', o.device);
    a.dispose();
    b.dispose();
  }

  const params = o.adamParams.map((s) => {
    const p = T.randn(s, { device: o.device, requiresGrad: true });
    p.grad = T.randn(s, { device: o.device });
    return p;
  });
  const opt = new AdamW(params, { lr: 1e-3, weightDecay: 0.01 });
  const nParams = o.adamParams.reduce((s, [r, c]) => s + r * c, 0);
  const am = await measure(
    () => {
      opt.step();
      done();
    },
    { timeMs: o.timeMs },
  );
  rows.push({ suite: 'cuda', case: `AdamW step ${(nParams / 1e6).toFixed(1)}M params`, impl: `@nl${where}`, rate: nParams / (am.medianMs * 1e3), unit: 'Mparam/s', medianMs: am.medianMs, ratio: 1 }); // prettier-ignore
  const pa = peer.adamw;
  rows.push({ suite: 'cuda', case: `AdamW step ${(nParams / 1e6).toFixed(1)}M params`, impl: 'torch.optim.AdamW foreach', rate: pa ? pa.params / (pa.ms * 1e3) : null, unit: 'Mparam/s', medianMs: pa?.ms ?? null, ratio: pa ? pa.ms / am.medianMs : null, note: pa ? 'ratio = torch ms / ours' : peerNote }); // prettier-ignore
  opt.dispose?.();
  for (const p of params) p.dispose();

  if (o.train) {
    const model = buildModel(preset('transformer', 'tiny'));
    model.to(o.device);
    const { batch, seq } = o.train;
    const ids = T.randint(0, 256, [batch, seq + 1], { device: o.device });
    const tOpt = new AdamW(model.parameters(), { lr: 1e-3 });
    const tm = await measure(
      () => {
        model.lossAndBackward(ids);
        tOpt.step();
        tOpt.zeroGrad();
        done();
      },
      { timeMs: o.timeMs, iterations: 2 },
    );
    const ourTrain = (batch * seq) / (tm.medianMs / 1e3);
    const pt = peer.transformer;
    rows.push({ suite: 'cuda', case: `transformer-tiny train step B${batch} T${seq}`, impl: `@nl${where}`, rate: ourTrain, unit: 'tok/s', medianMs: tm.medianMs, ratio: 1 }); // prettier-ignore
    rows.push({ suite: 'cuda', case: `transformer-tiny train step B${batch} T${seq}`, impl: 'torch eager (same shape, AdamW)', rate: pt?.trainTokS ?? null, unit: 'tok/s', medianMs: pt?.trainMs ?? null, ratio: pt ? ourTrain / pt.trainTokS : null, note: pt ? 'ratio = ours / torch' : peerNote }); // prettier-ignore
    const dec = model.decoder();
    const tokens = new Int32Array(o.decodeTokens).map((_, i) => (i * 31) % 256);
    const dm = await measure(
      () => {
        for (let i = 0; i < tokens.length; i++) dec.feed(tokens.subarray(i, i + 1));
      },
      { timeMs: o.timeMs, iterations: 1 },
    );
    const ourDec = o.decodeTokens / (dm.medianMs / 1e3);
    rows.push({ suite: 'cuda', case: 'transformer-tiny decode batch 1', impl: `@nl${where}`, rate: ourDec, unit: 'tok/s', medianMs: dm.medianMs, ratio: 1 }); // prettier-ignore
    rows.push({ suite: 'cuda', case: 'transformer-tiny decode batch 1', impl: 'torch eager, KV cache', rate: pt?.decodeTokS ?? null, unit: 'tok/s', medianMs: null, ratio: pt ? ourDec / pt.decodeTokS : null, note: pt ? 'ratio = ours / torch' : peerNote }); // prettier-ignore
    dec.dispose();
    ids.dispose();
    tOpt.dispose?.();
    model.dispose?.();
  }
  if (o.memory) rows.push(...(await cudaMemoryRows(o.device, o.memory, o.timeMs, where)));
  if (o.hope) rows.push(...(await cudaHopeRows(o.device, o.hope, o.timeMs, where)));
  if (o.peers) rows.push(...(await cudaPeerRows(o.device, o.peers, o.timeMs, where, info.emulated)));
  if (o.hope340m !== undefined)
    rows.push(...(await cudaHope340mRows(o.device, info.emulated ? null : o.hope340m, o.timeMs, where)));
  return rows;
}
