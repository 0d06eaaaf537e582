/**
 * Validation in bits per byte: the mean next-byte cross-entropy over scored validation windows,
 * divided by ln 2. With a byte tokenizer a token is a byte, so bits per token = bits per byte.
 *
 * The validation bytes are cut into consecutive windows of T + 1 bytes overlapping by one (as
 * @nl/hope's `sequentialBatches`); `maxBatches` batches of B windows are scored, the windows
 * spread evenly over the whole validation set (window i·n/k of n for the k scored), so a small
 * evaluation samples every validation document rather than the first one. Always the same
 * windows, so numbers are comparable across steps and runs; `maxBatches` 0 scores every window.
 */
import { sequentialWindowCount, type TokenBatch } from '@nl/hope';
import type { TrainableLM } from './model-api.js';

/** Result of one evaluation. */
export interface EvalResult {
  /** Bits per byte. */
  bpb: number;
  /** Mean loss in nats. */
  loss: number;
  /** Bytes scored (targets). */
  bytes: number;
}

/**
 * The scored windows as batches: `maxBatches` × `batchSize` windows evenly spaced over `data`
 * (all windows, in order, when that covers them or `maxBatches` is 0).
 */
export function* evalBatches(
  data: Uint8Array,
  batchSize: number,
  seqLen: number,
  maxBatches: number,
): Generator<TokenBatch> {
  const n = sequentialWindowCount(data.length, seqLen);
  const k = maxBatches === 0 ? n : Math.min(n, maxBatches * batchSize);
  const width = seqLen + 1;
  for (let first = 0; first < k; first += batchSize) {
    const rows = Math.min(batchSize, k - first);
    const tokens = new Int32Array(rows * width);
    for (let r = 0; r < rows; r++) {
      const start = Math.floor(((first + r) * n) / k) * seqLen;
      for (let j = 0; j < width; j++) tokens[r * width + j] = data[start + j];
    }
    yield { tokens, batchSize: rows, seqLen };
  }
}

/**
 * Evaluate `model` on `data`.
 * @param maxBatches - 0 for every window
 */
export async function evaluateBpb(
  model: TrainableLM,
  data: Uint8Array,
  batchSize: number,
  seqLen: number,
  maxBatches: number,
): Promise<EvalResult> {
  let sum = 0;
  let count = 0;
  for (const batch of evalBatches(data, batchSize, seqLen, maxBatches)) {
    const loss = await model.evalLoss(batch);
    if (!Number.isFinite(loss)) throw new Error(`evaluation: model returned a non-finite loss (${loss})`);
    const n = batch.batchSize * batch.seqLen;
    sum += loss * n;
    count += n;
  }
  if (count === 0)
    throw new Error(
      `evaluation: validation set of ${data.length} bytes is shorter than seqLen + 1 = ${seqLen + 1}`,
    );
  const loss = sum / count;
  return { bpb: loss / Math.LN2, loss, bytes: count };
}
