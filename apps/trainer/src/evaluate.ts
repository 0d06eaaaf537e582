/**
 * Validation in bits per byte: the mean next-byte cross-entropy over the scored validation
 * windows (see `sequentialBatches` in @nl/hope), divided by ln 2. With a byte tokenizer a token is
 * a byte, so bits per token = bits per byte. The first `maxBatches` batches are scored (0 = all),
 * always the same ones, so numbers are comparable across steps and runs.
 */
import { sequentialBatches } from '@nl/hope';
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
 * Evaluate `model` on `data`.
 * @param maxBatches - 0 for the whole set
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
  for (const batch of sequentialBatches(data, batchSize, seqLen, maxBatches === 0 ? Infinity : maxBatches)) {
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
