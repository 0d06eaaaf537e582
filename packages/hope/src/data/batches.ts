/**
 * Fixed-shape token batches over a byte array (byte tokenizer ids).
 *
 * A batch is `tokens: Int32Array` of shape [B, T+1], row-major: row b holds T+1 consecutive
 * bytes; a model reads inputs tokens[b, 0..T) and predicts targets tokens[b, 1..T].
 *
 * - {@link RandomBatches} (training): each row starts at an offset drawn uniformly from
 *   [0, n − T − 1] by the seeded {@link Rng}; the same seed gives the same batches on every run,
 *   and `state()` / `fromState` continue the stream exactly after a resume.
 * - {@link sequentialBatches} (validation): windows start at 0, T, 2T, … (stride T, so windows
 *   share one byte and every byte after the first is a target exactly once), grouped B rows at a
 *   time; the last batch may have fewer rows; a tail shorter than T+1 bytes is not scored.
 */
import { Rng, type RngState } from './rng.js';

/** One batch: tokens [batchSize, seqLen + 1] as Int32 ids. */
export interface TokenBatch {
  readonly tokens: Int32Array;
  /** Rows B. */
  readonly batchSize: number;
  /** Positions predicted per row T (each row holds T + 1 tokens). */
  readonly seqLen: number;
}

function checkShape(data: Uint8Array, batchSize: number, seqLen: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  if (!Number.isInteger(seqLen) || seqLen < 1)
    throw new RangeError(`seqLen must be a positive integer, got ${seqLen}`);
  if (data.length < seqLen + 1) {
    throw new RangeError(
      `data has ${data.length} bytes, fewer than seqLen + 1 = ${seqLen + 1}; use a shorter seqLen or a bigger corpus`,
    );
  }
}

function fillRow(out: Int32Array, row: number, data: Uint8Array, start: number, width: number): void {
  const o = row * width;
  for (let j = 0; j < width; j++) out[o + j] = data[start + j];
}

/** Endless random training batches with a resumable RNG. */
export class RandomBatches {
  private readonly rng: Rng;

  /**
   * @param data - training bytes, at least seqLen + 1 of them
   * @param batchSize - rows B per batch
   * @param seqLen - T; each row holds T + 1 tokens
   * @param seedOrState - an integer seed, or an RNG state from {@link RandomBatches.state}
   */
  constructor(
    private readonly data: Uint8Array,
    readonly batchSize: number,
    readonly seqLen: number,
    seedOrState: number | RngState,
  ) {
    checkShape(data, batchSize, seqLen);
    this.rng = typeof seedOrState === 'number' ? Rng.fromSeed(seedOrState) : Rng.fromState(seedOrState);
  }

  /** The RNG state; pass it back to the constructor to continue the same stream. */
  state(): RngState {
    return this.rng.state();
  }

  /** The next batch, tokens [B, T+1]. */
  next(): TokenBatch {
    const width = this.seqLen + 1;
    const tokens = new Int32Array(this.batchSize * width);
    const starts = this.data.length - width + 1;
    for (let b = 0; b < this.batchSize; b++) fillRow(tokens, b, this.data, this.rng.int(starts), width);
    return { tokens, batchSize: this.batchSize, seqLen: this.seqLen };
  }
}

/** Number of windows {@link sequentialBatches} scores over `n` bytes with length T. */
export function sequentialWindowCount(n: number, seqLen: number): number {
  return n < seqLen + 1 ? 0 : Math.floor((n - 1) / seqLen);
}

/**
 * Deterministic validation batches covering `data` in order.
 * @param maxBatches - stop after this many batches (default: all)
 * @returns batches of tokens [rows, T+1] with rows <= batchSize
 */
export function* sequentialBatches(
  data: Uint8Array,
  batchSize: number,
  seqLen: number,
  maxBatches = Infinity,
): Generator<TokenBatch> {
  checkShape(data, batchSize, seqLen);
  const width = seqLen + 1;
  const windows = sequentialWindowCount(data.length, seqLen);
  let w = 0;
  for (let n = 0; n < maxBatches && w < windows; n++) {
    const rows = Math.min(batchSize, windows - w);
    const tokens = new Int32Array(rows * width);
    for (let b = 0; b < rows; b++, w++) fillRow(tokens, b, data, w * seqLen, width);
    yield { tokens, batchSize: rows, seqLen };
  }
}
