/**
 * Synthetic memory tasks as byte sequences, for testing that a model stores and retrieves
 * information in context (memory modules, long context). Each example is text whose last part
 * is an answer that can only be predicted by recalling something earlier; `mask[i] = 1` marks the
 * positions whose next-byte prediction is scored (the answer bytes), so an evaluator computes the
 * loss or exact-match accuracy on those positions only. All randomness comes from the caller's
 * {@link Rng}, so a seed fixes the examples.
 *
 * - associative recall: `k1=v1;k2=v2;…;?k=` then the value of key `k`.
 * - needle in a haystack: filler text with ` The secret number is NNNNNN. ` inserted at a chosen
 *   depth, then `\nWhat is the secret number? ` and the number.
 */
import type { Rng } from './rng.js';

/** One example. */
export interface SyntheticExample {
  /** The whole text, answer included. */
  readonly text: string;
  /** Its UTF-8 bytes as ids, shape [n]. */
  readonly tokens: Int32Array;
  /** Shape [n]; 1 where tokens[i] is an answer byte to predict from tokens[0..i). */
  readonly mask: Uint8Array;
  /** The answer text (the masked bytes, decoded). */
  readonly answer: string;
}

const encoder = new TextEncoder();

function example(prefix: string, answer: string, suffix = ''): SyntheticExample {
  const pre = encoder.encode(prefix);
  const ans = encoder.encode(answer);
  const post = encoder.encode(suffix);
  const tokens = new Int32Array(pre.length + ans.length + post.length);
  tokens.set(pre, 0);
  tokens.set(ans, pre.length);
  tokens.set(post, pre.length + ans.length);
  const mask = new Uint8Array(tokens.length);
  mask.fill(1, pre.length, pre.length + ans.length);
  return { text: prefix + answer + suffix, tokens, mask, answer };
}

function randomString(rng: Rng, alphabet: string, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += alphabet[rng.int(alphabet.length)];
  return s;
}

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${v}`);
}

/** Options of {@link associativeRecall}. */
export interface RecallOptions {
  /** Key–value pairs shown. Default 8. */
  pairs?: number;
  /** Key length in lowercase letters. Default 3. */
  keyLength?: number;
  /** Value length in digits. Default 3. */
  valueLength?: number;
}

/**
 * An associative-recall example: distinct random keys with random values, then one key queried.
 * @example `abc=123;qxz=904;…;?qxz=` + answer `904`, then `\n`
 */
export function associativeRecall(rng: Rng, options: RecallOptions = {}): SyntheticExample {
  const { pairs = 8, keyLength = 3, valueLength = 3 } = options;
  checkInt('pairs', pairs, 1);
  checkInt('keyLength', keyLength, 1);
  checkInt('valueLength', valueLength, 1);
  if (pairs > 26 ** keyLength / 2)
    throw new RangeError(`pairs (${pairs}) too many for keys of ${keyLength} letters`);
  const keys = new Set<string>();
  while (keys.size < pairs) keys.add(randomString(rng, 'abcdefghijklmnopqrstuvwxyz', keyLength));
  const list = [...keys].map((k) => [k, randomString(rng, '0123456789', valueLength)] as const);
  const [qk, qv] = list[rng.int(pairs)];
  return example(list.map(([k, v]) => `${k}=${v};`).join('') + `?${qk}=`, qv, '\n');
}

/** Options of {@link needleInHaystack}. */
export interface NeedleOptions {
  /** Filler text (e.g. part of a corpus); repeated if shorter than `length`. */
  filler: string;
  /** Characters of filler around the needle. Default 2000. */
  length?: number;
  /** Where the needle goes, as a fraction of the filler in [0, 1]; default: drawn uniformly. */
  depth?: number;
  /** Digits of the secret number. Default 6. */
  digits?: number;
}

/**
 * A needle-in-a-haystack example: a secret number stated once inside filler text, asked for at
 * the end. The filler window starts at a random offset of `filler`.
 * @throws RangeError for empty filler, depth outside [0, 1], or bad sizes
 */
export function needleInHaystack(rng: Rng, options: NeedleOptions): SyntheticExample {
  const { filler, length = 2000, digits = 6 } = options;
  if (typeof filler !== 'string' || filler.trim() === '')
    throw new RangeError('needleInHaystack: filler text is empty');
  checkInt('length', length, 1);
  checkInt('digits', digits, 1);
  const depth = options.depth ?? rng.next();
  if (!(depth >= 0 && depth <= 1)) throw new RangeError(`depth must be in [0, 1], got ${depth}`);
  const chars = Array.from(filler); // code points, so no surrogate pair is split
  const start = rng.int(chars.length);
  const window: string[] = [];
  for (let i = 0; i < length; i++) window.push(chars[(start + i) % chars.length]);
  const at = Math.round(depth * length);
  const secret = String(1 + rng.int(9)) + randomString(rng, '0123456789', digits - 1);
  const hay = window.slice(0, at).join('') + ` The secret number is ${secret}. ` + window.slice(at).join('');
  return example(`${hay}\nWhat is the secret number? `, secret, '\n');
}
