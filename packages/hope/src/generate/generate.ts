/**
 * Text generation with any `LanguageModel`, streaming through `model.decoder()`: the prompt is
 * fed once, then each sampled token is fed alone (no recomputation of the prefix).
 *
 *   const r = generate(model, 'The Union is', { maxTokens: 80, temperature: 0.8, topK: 40, seed: 1 });
 *   for await (const t of generateStream(model, 'The Union is', { maxTokens: 80 })) process.stdout.write(t.text);
 *
 * Prompts given as strings are encoded with the byte tokenizer unless `tokenizer` is given.
 */
import { Rng } from '../data/rng.js';
import { ByteStreamDecoder, byteTokenizer } from '../data/tokenizer.js';
import type { LanguageModel } from '../models/contract.js';
import { checkSampling, sampleToken, type SamplingOptions } from './sampling.js';

/** Encodes prompts and decodes generated ids (default: the byte tokenizer). */
export interface TextCodec {
  encode(text: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
}

/** Options of `generate` / `generateStream`. */
export interface GenerateOptions extends SamplingOptions {
  /** Tokens to generate (default 100). */
  maxTokens?: number;
  /** Seed of the sampling RNG (default 0); the same seed gives the same tokens. */
  seed?: number;
  /** Stop after generating any of these ids (the stop id is included in the output). */
  stopTokens?: ArrayLike<number>;
  /** Codec for string prompts and the output text (default byte tokenizer, vocab 256). */
  tokenizer?: TextCodec;
  /** Called after each generated token with its id and the text it completes. */
  onToken?: (id: number, text: string) => void;
}

/** One generated token. */
export interface GeneratedToken {
  id: number;
  /** Text completed by this token (byte tokenizer: '' while a multi-byte character is partial). */
  text: string;
  /** 0-based index among the generated tokens. */
  index: number;
}

/** What `generate` returns. */
export interface GenerateResult {
  /** The prompt's ids. */
  prompt: Int32Array;
  /** Generated ids (without the prompt). */
  ids: Int32Array;
  /** Generated text. */
  text: string;
  /** Why generation ended. */
  finish: 'maxTokens' | 'stop';
}

function promptIds(
  model: LanguageModel,
  prompt: string | Int32Array,
  codec: TextCodec | undefined,
): Int32Array {
  const v = model.config.vocabSize;
  if (typeof prompt === 'string') {
    if (codec === undefined && v !== byteTokenizer.vocabSize)
      throw new Error(
        `generate: a string prompt needs a tokenizer for vocabSize ${v} (the byte tokenizer has 256)`,
      );
    prompt = (codec ?? byteTokenizer).encode(prompt);
  }
  if (!(prompt instanceof Int32Array))
    throw new TypeError('generate: prompt must be a string or an Int32Array');
  if (prompt.length === 0) throw new RangeError('generate: the prompt must have at least one token');
  for (let i = 0; i < prompt.length; i++)
    if (prompt[i]! < 0 || prompt[i]! >= v)
      throw new RangeError(`generate: prompt id ${prompt[i]} at index ${i} is outside [0, ${v})`);
  return prompt;
}

/**
 * The generation loop as a synchronous iterator of tokens (the decoder is disposed when the
 * iterator finishes or is abandoned with `return()`, e.g. `break` in a for-of).
 */
export function* generateTokens(
  model: LanguageModel,
  prompt: string | Int32Array,
  opts: GenerateOptions = {},
): Generator<GeneratedToken, GenerateResult['finish'], void> {
  const sampling = checkSampling('generate', opts);
  const maxTokens = opts.maxTokens ?? 100;
  if (!Number.isInteger(maxTokens) || maxTokens < 0)
    throw new RangeError(`generate: maxTokens must be an integer >= 0, got ${maxTokens}`);
  const seed = opts.seed ?? 0;
  const rng = Rng.fromSeed(seed);
  const stop = new Set(Array.from(opts.stopTokens ?? []));
  const ids = promptIds(model, prompt, opts.tokenizer);
  const bytes = opts.tokenizer === undefined ? new ByteStreamDecoder() : null;
  const piece = (id: number): string => (bytes ? bytes.push([id]) : opts.tokenizer!.decode([id]));
  if (maxTokens === 0) return 'maxTokens';
  const dec = model.decoder();
  try {
    let logits = dec.feed(ids);
    for (let index = 0; index < maxTokens; index++) {
      const id = sampleToken(logits, sampling, rng);
      const text = piece(id);
      opts.onToken?.(id, text);
      yield { id, text, index };
      if (stop.has(id)) return 'stop';
      if (index + 1 < maxTokens) logits = dec.feed(Int32Array.of(id));
    }
    return 'maxTokens';
  } finally {
    dec.dispose();
  }
}

/** Generates up to `maxTokens` tokens after `prompt`; see `GenerateOptions`. */
export function generate(
  model: LanguageModel,
  prompt: string | Int32Array,
  opts: GenerateOptions = {},
): GenerateResult {
  const p = promptIds(model, prompt, opts.tokenizer);
  const out: number[] = [];
  const it = generateTokens(model, p, opts);
  let r = it.next();
  for (; !r.done; r = it.next()) out.push(r.value.id);
  const ids = Int32Array.from(out);
  const text = (opts.tokenizer ?? byteTokenizer).decode(ids);
  return { prompt: p, ids, text, finish: r.value };
}

/**
 * Async iterator over generated tokens, yielding to the event loop between tokens (for servers
 * and UIs). `break` stops generation and frees the decoder.
 */
export async function* generateStream(
  model: LanguageModel,
  prompt: string | Int32Array,
  opts: GenerateOptions = {},
): AsyncGenerator<GeneratedToken, GenerateResult['finish'], void> {
  const it = generateTokens(model, prompt, opts);
  try {
    for (let r = it.next(); ; r = it.next()) {
      if (r.done) return r.value;
      yield r.value;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    it.return('maxTokens');
  }
}
