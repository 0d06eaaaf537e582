/**
 * The memory suite's PyTorch peer: the gated delta rule written the way a PyTorch user would
 * (chunk-parallel WY / UT form, autograd for the backward; peers/torch_delta.py, checked there
 * against a float64 token loop by `torch_cpu.py --self-test`), forward and forward + backward at the
 * suite's shape (B = 1, H = 4, D = 64, chunk 64) with our thread count, one row after each of our
 * fused deltaRule rows.
 * Before timing, the peer runs a small case on our inputs and the note gives the relative RMS of
 * its o and dk against our fused kernel's, so the rows compare the same work.
 */
import { deltaRuleBackward, deltaRuleForward, type SeqShape } from '@nl/memory';
import { numThreads } from '@nl/native';
import type { Row } from '../harness.js';
import { oursOverTorch, peerNote, runPeer, type PeerReply } from '../peers.js';

/** Outputs and input gradients (of sum(o * dO)) of torch's chunked delta rule, flat. */
export interface TorchDeltaCheck {
  o: number[];
  dq: number[];
  dk: number[];
  dv: number[];
  dalpha: number[];
  dbeta: number[];
}

/** Inputs of the delta rule, flat [B, T, H, D] / [B, T, H], and the upstream gradient dO. */
export interface DeltaCase {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  alpha: Float32Array;
  beta: Float32Array;
  dO: Float32Array;
  shape: SeqShape;
}

interface TorchDeltaReply {
  deltaRule?: { T: number; fwdMs: number; fwdBwdMs: number }[];
  deltaCheck?: TorchDeltaCheck;
}

const checkSpec = (x: DeltaCase, chunk: number) => ({
  q: [...x.q],
  k: [...x.k],
  v: [...x.v],
  alpha: [...x.alpha],
  beta: [...x.beta],
  dO: [...x.dO],
  shape: [x.shape.batch, x.shape.seqLen, x.shape.heads, x.shape.dk],
  chunk,
});

/** torch's chunked delta rule on `x` (outputs and gradients), or the reason it did not run. */
export function torchDeltaCheck(x: DeltaCase, chunk: number): Partial<TorchDeltaCheck> & PeerReply {
  const r = runPeer<TorchDeltaReply>('torch_cpu.py', { deltaCheck: checkSpec(x, chunk) });
  return r.deltaCheck ? { ...r, ...r.deltaCheck } : { error: r.error ?? 'the peer returned no deltaCheck' };
}

/** Our fused kernel on `x`: o and the gradients of sum(o * dO). */
export function oursDelta(x: DeltaCase, chunk: number) {
  const inputs = { q: x.q, k: x.k, v: x.v, alpha: x.alpha, beta: x.beta, shape: x.shape };
  return {
    ...deltaRuleForward(inputs, { chunkSize: chunk }),
    ...deltaRuleBackward(inputs, { dO: x.dO }, { chunkSize: chunk }),
  };
}

/** sqrt(Σ (a − b)²) / sqrt(Σ b²). */
export function relRms(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-300));
}

/**
 * `rows` with a torch row after each of our fused 'deltaRule fwd|fwd+bwd T=…' rows (or, without
 * torch, a skipped row saying why). `check` is the small case compared before timing.
 */
export function withTorchDeltaRule(
  rows: Row[],
  o: { seqLens: number[]; heads: number; dim: number; chunkSize: number; timeMs: number; check: DeltaCase },
): Row[] {
  const peer = runPeer<TorchDeltaReply>('torch_cpu.py', {
    threads: numThreads(),
    timeMs: o.timeMs,
    deltaRule: { seqLens: o.seqLens, batch: 1, heads: o.heads, dim: o.dim, chunk: o.chunkSize },
    deltaCheck: checkSpec(o.check, o.chunkSize),
  });
  let agree = '';
  if (peer.deltaCheck) {
    const ours = oursDelta(o.check, o.chunkSize);
    const [ro, rk] = [relRms(peer.deltaCheck.o, ours.o), relRms(peer.deltaCheck.dk, ours.dk)];
    agree = `, rel RMS vs ours (T=${o.check.shape.seqLen}): o ${ro.toExponential(1)}, dk ${rk.toExponential(1)}`;
  }
  const out: Row[] = [];
  for (const r of rows) {
    out.push(r);
    const m = /^deltaRule (fwd|fwd\+bwd) T=(\d+)$/.exec(r.case);
    if (!m || !r.impl.startsWith('@nl/native')) continue;
    const T = Number(m[2]);
    const t = peer.deltaRule?.find((x) => x.T === T);
    const ms = t ? (m[1] === 'fwd' ? t.fwdMs : t.fwdBwdMs) : null;
    const rate = ms ? T / (ms * 1e-3) : null;
    const ref = rows.find((x) => x.case === r.case && x.impl.startsWith('TS reference'))?.rate;
    const flopsPerTok = o.heads * o.dim * o.dim * (m[1] === 'fwd' ? 7 : 29);
    out.push({
      suite: r.suite,
      case: r.case,
      impl: `torch chunked (WY form, C=${o.chunkSize}, autograd)`,
      rate,
      unit: 'tok/s',
      medianMs: ms,
      ratio: rate && ref ? rate / ref : null,
      note:
        rate && ms
          ? `${oursOverTorch(r.rate, rate)}; ${((flopsPerTok * T) / (ms * 1e6)).toFixed(2)} GFLOP/s${agree}; ${peerNote(peer)}`
          : peerNote(peer),
    });
  }
  return out;
}
