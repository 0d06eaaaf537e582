/**
 * Test-time learning without outer training: a passage is read twice from a fresh fast state,
 * teacher-forced, with no parameter update; the gain = bits/byte on the first read − bits/byte on
 * the second. The second read can only be better through what the state took from the first:
 *
 * - Hope: `HopeSession.feed` (its Titans memories write, its CMS levels take their scheduled
 *   next-token-prediction updates); "CMS frozen" = `session.freeze('cms')` (levels read, never
 *   written; the memories still write).
 * - Titans, DeltaNet, Transformer: the model's streaming decoder over both reads (Titans' and
 *   DeltaNet's memory state and conv cache carry over; the Transformer's KV cache lets it attend
 *   to the first read — copying in context, not learning, shown for reference).
 *
 * Both reads are scored alike: the first read's first byte has no context and is not scored; the
 * second read's first byte is predicted from the end of the first read.
 */
import { HopeSession, type HopeLM, type LanguageModel, type StreamDecoder } from '@nl/hope';
import { tidy } from '@nl/tensor';

/** Summed next-byte loss over two reads of the passages. */
export interface RepeatResult {
  /** Bits per byte of the first and the second read, over all passages. */
  first: number;
  second: number;
  /** first − second. */
  gain: number;
}

/** Σ −log softmax(logits[r])[targets[r]] in nats over rows r of logits [rows, V] (float64). */
export function rowNats(
  logits: Float32Array | Float64Array,
  v: number,
  targets: ArrayLike<number>,
  rows: number[],
): number {
  let nats = 0;
  for (const r of rows) {
    let max = -Infinity;
    for (let c = 0; c < v; c++) max = Math.max(max, logits[r * v + c]!);
    let z = 0;
    for (let c = 0; c < v; c++) z += Math.exp(logits[r * v + c]! - max);
    nats += max + Math.log(z) - logits[r * v + targets[r]!]!;
  }
  return nats;
}

/** Two reads through a streaming decoder; returns [first nats, first count, second nats, second count]. */
function decoderReads(model: LanguageModel, passage: Int32Array): [number, number, number, number] {
  const dec = model.decoder() as StreamDecoder;
  try {
    const p = passage.length;
    const v = model.config.vocabSize;
    const read = (): Float32Array => {
      const t = dec.step(passage); // [P, V]
      try {
        return tidy(() => Float32Array.from(t.to('cpu').dataSync())); // the read's one device -> host transfer
      } finally {
        t.dispose();
      }
    };
    const a = read();
    const b = read();
    const next = Int32Array.from({ length: p }, (_, i) => passage[(i + 1) % p]!); // row i predicts byte i+1
    const rows = Array.from({ length: p - 1 }, (_, i) => i);
    const firstNats = rowNats(a, v, next, rows);
    // the second read: row P−1 of the first read predicts its byte 0, its rows 0..P−2 the rest
    const secondNats = rowNats(a, v, next, [p - 1]) + rowNats(b, v, next, rows);
    return [firstNats, p - 1, secondNats, p];
  } finally {
    dec.dispose();
  }
}

/** Two reads through a HopeSession (CMS learning unless `freezeCms`). */
function sessionReads(
  model: HopeLM,
  passage: Int32Array,
  freezeCms: boolean,
): [number, number, number, number] {
  const session = new HopeSession(model);
  try {
    if (freezeCms) session.freeze('cms');
    const a = session.feed(passage);
    const b = session.feed(passage);
    return [a.nats, a.tokens, b.nats, b.tokens];
  } finally {
    session.dispose();
  }
}

/** How the state is carried across the two reads. */
export type RepeatMode = 'decoder' | 'session' | 'session-cms-frozen';

/** Reads every passage twice from a fresh state (see the module comment). */
export function repeatGain(model: LanguageModel, passages: Int32Array[], mode: RepeatMode): RepeatResult {
  if (mode !== 'decoder' && model.config.kind !== 'hope')
    throw new RangeError(`repeatGain: mode '${mode}' needs a Hope model, got ${model.config.kind}`);
  let n1 = 0;
  let c1 = 0;
  let n2 = 0;
  let c2 = 0;
  for (const passage of passages) {
    if (passage.length < 2) throw new RangeError('repeatGain: a passage needs at least 2 bytes');
    const [a, ca, b, cb] =
      mode === 'decoder'
        ? decoderReads(model, passage)
        : sessionReads(model as HopeLM, passage, mode === 'session-cms-frozen');
    n1 += a;
    c1 += ca;
    n2 += b;
    c2 += cb;
  }
  const first = n1 / c1 / Math.LN2;
  const second = n2 / c2 / Math.LN2;
  return { first, second, gain: first - second };
}
