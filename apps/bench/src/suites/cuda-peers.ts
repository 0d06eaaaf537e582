/**
 * `nl-bench --device cuda` rows of our fused memory ops beside PyTorch peers measured in the same
 * run on the same GPU (peers/torch_memory_cuda.py), forward + backward of one call (loss = sum of
 * o), rates in tokens (B·T) a second:
 *   gatedDeltaRule: ours vs a torch chunked (WY / UT, chunk 64, fp32) delta rule vs the same layer
 *     composed of torch ops token by token (at a shorter T, rate per token), and at fla's shape
 *     (B1 T8192 H16 D128) fla's published H200 number, labelled as published, not measured;
 *   titansMlp: ours vs the same layer composed of torch ops (chunk-parallel form).
 * Without torch or a GPU (and always on the emulated device) the peer rows carry the reason.
 */
import { dirname, join } from 'node:path';
import * as T from '@nl/tensor';
import { fusedGatedDelta, fusedTitansMlp } from '@nl/memory';
import { measure, type Row } from '../harness.js';
import { peerNote, runPeer, type PeerReply } from '../peers.js';
import { leaf } from './cuda-memory.js';

/** One memory shape: q, k, v [batch, seq, heads, dim], chunk size, Titans hidden width. */
export interface PeerShape {
  batch: number;
  seq: number;
  heads: number;
  dim: number;
  chunk: number;
  hidden?: number;
}

export interface CudaPeerOptions {
  /** Gated delta rule shapes (ours, torch chunked; the fla row where the shape is fla's). */
  delta: PeerShape[];
  /** T of the token-by-token torch delta rule (other dims from delta[0]). */
  naiveSeq: number;
  /** Titans MLP shape (hidden required). */
  titans: PeerShape;
}

interface MemoryPeerReply extends PeerReply {
  delta?: (PeerShape & { ms: number; peakBytes: number })[];
  naive?: PeerShape & { ms: number };
  titans?: PeerShape & { ms: number };
}

/** The rows' shapes: small ones for --quick; the full run adds fla's shape (B1 T8192 H16 D128). */
export function cudaPeerShapes(quick: boolean): CudaPeerOptions {
  if (quick) {
    const s = { batch: 1, seq: 16, heads: 2, dim: 16, chunk: 8 };
    return { delta: [s], naiveSeq: 8, titans: { ...s, hidden: 16 } };
  }
  const s = { batch: 4, seq: 512, heads: 8, dim: 64, chunk: 64 };
  return {
    delta: [s, { batch: 1, seq: 8192, heads: 16, dim: 128, chunk: 64 }],
    naiveSeq: 256,
    titans: { ...s, hidden: 64 },
  };
}

/** The peer script: $NL_TORCH_MEMORY_PEER, else beside $NL_TORCH_PEER (a bundled run), else peers/. */
function peerScript(): string {
  const env = process.env;
  if (env.NL_TORCH_MEMORY_PEER) return env.NL_TORCH_MEMORY_PEER;
  return env.NL_TORCH_PEER
    ? join(dirname(env.NL_TORCH_PEER), 'torch_memory_cuda.py')
    : 'torch_memory_cuda.py';
}

/** fla's chunk gated delta rule, forward + backward, one layer, as published for an H200 (issue 12). */
export const FLA_PUBLISHED = { batch: 1, seq: 8192, heads: 16, dim: 128, tokS: 4.3e6 };

const shapeName = (s: PeerShape) => `B${s.batch} T${s.seq} H${s.heads} D${s.dim}`;

/** Our fused op's fwd+bwd on `device` at shape `s`: median ms. */
async function ours(device: T.Device, op: 'delta' | 'titans', s: PeerShape, timeMs: number): Promise<number> {
  const { batch: B, seq: L, heads: H, dim: D } = s;
  const sc = 1 / Math.sqrt(D);
  const row = [B, L, H, D],
    gate = [B, L, H];
  const Dh = s.hidden ?? D;
  const ins =
    op === 'delta'
      ? [leaf(device, row, 1, -sc, sc), leaf(device, row, 2, -sc, sc), leaf(device, row, 3), leaf(device, gate, 4, 0.9, 1), leaf(device, gate, 5, 0, 1), leaf(device, [B, H, D, D], 6)] // prettier-ignore
      : [leaf(device, row, 7), leaf(device, row, 8, -sc, sc), leaf(device, row, 9), leaf(device, gate, 10, 0, 0.1), leaf(device, gate, 11, 0.5, 0.9), leaf(device, gate, 12, 0, 0.05), leaf(device, [B, H, D, Dh], 13), leaf(device, [B, H, Dh, D], 14), leaf(device, [B, H, D, Dh], 15, -0.01, 0.01), leaf(device, [B, H, Dh, D], 16, -0.01, 0.01)]; // prettier-ignore
  const call = () =>
    op === 'delta'
      ? fusedGatedDelta(ins[0]!, ins[1]!, ins[2]!, ins[3]!, ins[4]!, ins[5]!, {
          chunkSize: s.chunk,
          erase: true,
        })
      : fusedTitansMlp(ins, { chunkSize: s.chunk, readAfterWrite: true, hidden: Dh });
  const m = await measure(
    () => {
      const outs = call();
      const loss = outs[0]!.sum();
      loss.backward();
      for (const t of [loss, ...outs]) t.dispose();
      for (const t of ins) {
        t.grad?.dispose();
        t.grad = null;
      }
      T.synchronize(device);
    },
    { timeMs, iterations: 2 },
  );
  for (const t of ins) t.dispose();
  return m.medianMs;
}

/** The rows (ratio = ours / theirs in tokens a second). */
export async function cudaPeerRows(
  device: T.Device,
  o: CudaPeerOptions,
  timeMs: number,
  where: string,
  emulated: boolean,
): Promise<Row[]> {
  const naive = { ...o.delta[0]!, seq: o.naiveSeq };
  const peer: MemoryPeerReply = emulated
    ? { error: 'no peer on the emulated device' }
    : runPeer<MemoryPeerReply>(
        peerScript(),
        { device, timeMs, delta: o.delta, naive, titans: o.titans },
        600_000,
      );
  const note = peer.error ? peerNote(peer) : `${peerNote(peer)}; ratio = ours / torch`;
  const rows: Row[] = [];
  const tok = (s: PeerShape, ms: number | undefined) => (ms ? (s.batch * s.seq) / (ms / 1e3) : null);
  const theirs = (
    name: string,
    impl: string,
    s: PeerShape,
    ms: number | undefined,
    ourRate: number,
    extra = '',
  ) => {
    const rate = tok(s, ms);
    rows.push({ suite: 'cuda', case: name, impl, rate, unit: 'tok/s', medianMs: ms ?? null, ratio: rate ? ourRate / rate : null, note: rate ? `${note}${extra}` : note }); // prettier-ignore
  };
  for (const [i, s] of o.delta.entries()) {
    const name = `gatedDeltaRule vs torch fwd+bwd ${shapeName(s)} C${s.chunk}`;
    const ms = await ours(device, 'delta', s, timeMs);
    const rate = tok(s, ms)!;
    rows.push({ suite: 'cuda', case: name, impl: `@nl cuda kernels${where}`, rate, unit: 'tok/s', medianMs: ms, ratio: 1 }); // prettier-ignore
    const p = peer.delta?.[i];
    const mem = p ? `; torch peak ${(p.peakBytes / 2 ** 30).toFixed(2)} GiB` : '';
    theirs(name, `torch chunked WY/UT (C${s.chunk}, fp32, autograd)`, s, p?.ms, rate, mem);
    if (i === 0)
      theirs(name, `torch ops token by token (T${naive.seq}, rate per token)`, naive, peer.naive?.ms, rate);
    const f = FLA_PUBLISHED;
    if (s.batch === f.batch && s.seq === f.seq && s.heads === f.heads && s.dim === f.dim) {
      rows.push({ suite: 'cuda', case: name, impl: 'fla chunk_gated_delta_rule, H200 (PUBLISHED, not measured)', rate: f.tokS, unit: 'tok/s', medianMs: null, ratio: rate / f.tokS, note: 'published number (~4.3M tok/s fwd+bwd per layer, bf16, cited in issue 12); ratio = ours / published' }); // prettier-ignore
    }
  }
  const s = o.titans;
  const name = `titansMlp vs torch fwd+bwd ${shapeName(s)} Dh${s.hidden} C${s.chunk}`;
  const ms = await ours(device, 'titans', s, timeMs);
  const rate = tok(s, ms)!;
  rows.push({ suite: 'cuda', case: name, impl: `@nl cuda kernels${where}`, rate, unit: 'tok/s', medianMs: ms, ratio: 1 }); // prettier-ignore
  theirs(name, `torch ops, chunk-parallel (C${s.chunk}, fp32, autograd)`, s, peer.titans?.ms, rate);
  return rows;
}
