/**
 * Sampling from a {@link TrainableLM}'s token stream: temperature, top-K and a seeded RNG, so the
 * same seed gives the same text. Temperature 0 is greedy (ties → lowest id).
 */
import { ByteStreamDecoder, Rng, byteTokenizer } from '@nl/hope';
import type { TrainableLM } from './model-api.js';

/** Sampling options. */
export interface SampleOptions {
  /** Bytes to generate. */
  length: number;
  /** Softmax temperature; 0 = greedy. */
  temperature: number;
  /** Keep the K most likely ids; 0 = all. */
  topK: number;
  /** RNG used for the draws (advanced in place). */
  rng: Rng;
}

/**
 * Pick the next id from logits [vocab].
 * @returns an id in [0, logits.length)
 */
export function pickToken(logits: Float32Array, temperature: number, topK: number, rng: Rng): number {
  const n = logits.length;
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < n; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  let ids = Array.from({ length: n }, (_, i) => i);
  if (topK > 0 && topK < n) ids = ids.sort((a, b) => logits[b] - logits[a] || a - b).slice(0, topK);
  let max = -Infinity;
  for (const i of ids) max = Math.max(max, logits[i]);
  const w = ids.map((i) => Math.exp((logits[i] - max) / temperature));
  const total = w.reduce((a, b) => a + b, 0);
  let u = rng.next() * total;
  for (let j = 0; j < ids.length; j++) {
    u -= w[j];
    if (u < 0) return ids[j];
  }
  return ids[ids.length - 1];
}

/**
 * Generate text after `prompt`, calling `onText` with each completed piece (for streaming output).
 * @returns the generated text (without the prompt)
 */
export async function sampleText(
  model: TrainableLM,
  prompt: string,
  opts: SampleOptions,
  onText?: (s: string) => void,
): Promise<string> {
  const stream = model.stream();
  const decoder = new ByteStreamDecoder();
  let out = '';
  const emit = (s: string) => {
    if (s) {
      out += s;
      onText?.(s);
    }
  };
  try {
    const promptIds = byteTokenizer.encode(prompt);
    let logits = await stream.feed(promptIds.length > 0 ? promptIds : Int32Array.of(10)); // empty prompt: start after a newline
    for (let i = 0; i < opts.length; i++) {
      const id = pickToken(logits, opts.temperature, opts.topK, opts.rng);
      emit(decoder.push([id]));
      if (i + 1 < opts.length) logits = await stream.feed(Int32Array.of(id));
    }
    emit(decoder.end());
  } finally {
    stream.dispose?.();
  }
  return out;
}
