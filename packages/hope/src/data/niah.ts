/**
 * Single-needle needle-in-a-haystack (S-NIAH) in the style of RULER (Hsieh et al. 2024), on
 * bytes, at an exact total length. One needle stating a number is hidden at a depth of a
 * haystack; the question at the end asks for it and the answer's digits are the scored bytes:
 *
 *   S-NIAH-1 (passkey)  haystack: RULER's repeated noise sentences ("The grass is green. ...")
 *                       needle " The pass key is 48213. Remember it. "
 *                       question "\nWhat is the pass key? The pass key is " + 48213
 *   S-NIAH-2 (number)   haystack: a window of real text (the caller's filler, e.g. SOTU)
 *                       needle " The magic number is 48213. "
 *                       question "\nWhat is the magic number? The magic number is " + 48213
 *   S-NIAH-3 (key–value) haystack: the filler; the needle names a random key of lowercase letters
 *                       needle " The magic number for qzkw is 4821377. "
 *                       question "\nWhat is the magic number for qzkw? The magic number for qzkw is " + 4821377
 *
 * After the answer comes ".\n" (not scored). The example is exactly `length` bytes: the haystack
 * fills what the needle, question and answer leave. The haystack window starts at a random
 * character of the filler (wrapping around), the needle goes in at `depth` of the haystack,
 * moved forward to just after a space when there is one. Bytes of a multi-byte character cut at
 * the window's end become spaces. The value's first digit is never 0. All randomness comes from
 * the caller's {@link Rng}; with depth unset it is drawn uniformly from [0, 1].
 */
import type { Rng } from './rng.js';

/** RULER's noise haystack of S-NIAH-1 (the passkey task of Mohtashami & Jaggi 2023). */
export const NIAH_NOISE =
  'The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. ';

/** Which S-NIAH task: 1 passkey in noise, 2 number in text, 3 key–value needle in text. */
export type NiahVariant = 1 | 2 | 3;

/** Options of {@link singleNeedle}. */
export interface NiahOptions {
  variant: NiahVariant;
  /** Total bytes of the example (haystack, needle, question, answer, ".\n"). */
  length: number;
  /**
   * Haystack of variants 2 and 3 (repeated when shorter than needed), as text or as its UTF-8
   * bytes (pass bytes to skip encoding a large corpus per example); ignored by variant 1.
   */
  filler?: string | Uint8Array;
  /** Where the needle goes, as a fraction of the haystack in [0, 1]; default drawn uniformly. */
  depth?: number;
  /** Digits of the value. Default 5 (variants 1, 2) or 7 (variant 3). */
  digits?: number;
  /** Letters of variant 3's key. Default 4. */
  keyLength?: number;
}

/** One S-NIAH example. */
export interface NiahExample {
  /** Byte ids, shape [length]. */
  readonly tokens: Int32Array;
  /** Shape [length]; 1 on the answer's digits (each predicted from tokens[0..i)). */
  readonly mask: Uint8Array;
  /** The hidden value (the answer digits). */
  readonly value: string;
  /** Variant 3's key ('' otherwise). */
  readonly key: string;
  /** Byte offset where the needle starts. */
  readonly needleAt: number;
}

const encoder = new TextEncoder();
const SPACE = 32;

const NIAH_NOISE_BYTES = encoder.encode(NIAH_NOISE);

/** The filler's bytes, or null when it is missing or only whitespace. */
function fillerBytes(filler: string | Uint8Array | undefined): Uint8Array | null {
  const bytes = typeof filler === 'string' ? encoder.encode(filler) : filler;
  if (!(bytes instanceof Uint8Array)) return null;
  return bytes.some((b) => b > 32) ? bytes : null;
}

function digitsOf(rng: Rng, n: number): string {
  let s = String(1 + rng.int(9));
  for (let i = 1; i < n; i++) s += String(rng.int(10));
  return s;
}

function lettersOf(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(97 + rng.int(26));
  return s;
}

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${v}`);
}

/** The needle and the question (ending just before the answer) of a variant. */
function needleAndQuestion(variant: NiahVariant, value: string, key: string): [string, string] {
  if (variant === 1)
    return [` The pass key is ${value}. Remember it. `, '\nWhat is the pass key? The pass key is '];
  if (variant === 2)
    return [` The magic number is ${value}. `, '\nWhat is the magic number? The magic number is '];
  return [
    ` The magic number for ${key} is ${value}. `,
    `\nWhat is the magic number for ${key}? The magic number for ${key} is `,
  ];
}

/** `n` bytes of `source` from a random character start (wrapping); a cut last character becomes spaces. */
function haystackWindow(rng: Rng, source: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  if (n === 0) return out;
  let start = rng.int(source.length);
  while ((source[start]! & 0xc0) === 0x80) start = (start + 1) % source.length; // a character start
  for (let i = 0; i < n; i++) out[i] = source[(start + i) % source.length]!;
  // the last character: a lead byte of k bytes needs k − 1 continuation bytes inside the window
  let lead = n - 1;
  while (lead > 0 && (out[lead]! & 0xc0) === 0x80) lead--;
  const b = out[lead]!;
  const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
  if (n - lead < need) out.fill(SPACE, lead);
  return out;
}

/** Draws one S-NIAH example (see the module comment). */
export function singleNeedle(rng: Rng, options: NiahOptions): NiahExample {
  const { variant, length } = options;
  if (variant !== 1 && variant !== 2 && variant !== 3)
    throw new RangeError(`variant must be 1, 2 or 3, got ${String(variant)}`);
  checkInt('length', length, 1);
  const digits = options.digits ?? (variant === 3 ? 7 : 5);
  const keyLength = options.keyLength ?? 4;
  checkInt('digits', digits, 1);
  checkInt('keyLength', keyLength, 1);
  const filler = variant === 1 ? NIAH_NOISE_BYTES : fillerBytes(options.filler);
  if (filler === null)
    throw new RangeError(`filler text is empty (variant ${variant} hides the needle in the caller's filler)`);
  if (options.depth !== undefined && !(options.depth >= 0 && options.depth <= 1))
    throw new RangeError(`depth must be in [0, 1], got ${options.depth}`);
  const depth = options.depth ?? rng.next();
  const value = digitsOf(rng, digits);
  const key = variant === 3 ? lettersOf(rng, keyLength) : '';
  const [needleText, questionText] = needleAndQuestion(variant, value, key);
  const needle = encoder.encode(needleText);
  const question = encoder.encode(questionText);
  const answer = encoder.encode(value);
  const tail = encoder.encode('.\n');
  const hayLength = length - needle.length - question.length - answer.length - tail.length;
  if (hayLength < 0)
    throw new RangeError(
      `length ${length} is too short for S-NIAH-${variant}: needle, question and answer take ${length - hayLength} bytes`,
    );
  const hay = haystackWindow(rng, filler, hayLength);
  let at = Math.round(depth * hayLength);
  const space = hay.indexOf(SPACE, at);
  if (space >= 0) at = space + 1;
  else while (at < hayLength && (hay[at]! & 0xc0) === 0x80) at++; // never split a character
  const tokens = new Int32Array(length);
  let o = 0;
  for (const part of [hay.subarray(0, at), needle, hay.subarray(at), question, answer, tail]) {
    tokens.set(part, o);
    o += part.length;
  }
  const mask = new Uint8Array(length);
  const answerAt = length - tail.length - answer.length;
  mask.fill(1, answerAt, answerAt + answer.length);
  return { tokens, mask, value, key, needleAt: at };
}

/** Bytes that a variant's needle, question, answer and ".\n" take (the shortest possible length). */
export function niahOverhead(variant: NiahVariant, digits?: number, keyLength = 4): number {
  const d = digits ?? (variant === 3 ? 7 : 5);
  const [needle, question] = needleAndQuestion(variant, '0'.repeat(d), 'k'.repeat(keyLength));
  return encoder.encode(needle).length + encoder.encode(question).length + d + 2;
}
