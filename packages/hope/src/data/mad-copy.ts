/**
 * MAD selective copying (and plain copying), compression and memorization. In all three the
 * scored outputs sit on tokens that do not reveal them (blanks, position queries, insert tokens),
 * as in mad-lab: the model is never fed the answer it must give (no teacher forcing).
 */
import { Rng } from './rng.js';
import { MAD_IGNORE, checkInt, distinctIds, type MadExample } from './mad-common.js';

/** Options of {@link madSelectiveCopying}. */
export interface MadCopyOptions {
  /** Ids used, [0, vocabSize): vocabSize − 1 is the copy token, vocabSize − 2 the blank. Default 16. */
  vocabSize?: number;
  /** Tokens per sequence. Default 32. */
  seqLen?: number;
  /** Content tokens to copy. Default 8. */
  tokensToCopy?: number;
  /** Blanks scattered among the content (selective copying) or all after it (copying). Default true. */
  selective?: boolean;
}

/** Checks copying options (naming the bad one); returns them with defaults and the special ids. */
export function resolveMadCopy(
  o: MadCopyOptions = {},
): Required<MadCopyOptions> & { copy: number; blank: number } {
  const r = {
    vocabSize: o.vocabSize ?? 16,
    seqLen: o.seqLen ?? 32,
    tokensToCopy: o.tokensToCopy ?? 8,
    selective: o.selective ?? true,
  };
  checkInt('vocabSize', r.vocabSize, 3, 256);
  checkInt('tokensToCopy', r.tokensToCopy, 1);
  checkInt('seqLen', r.seqLen, 2 * r.tokensToCopy + 2);
  return { ...r, copy: r.vocabSize - 1, blank: r.vocabSize - 2 };
}

/**
 * Selective copying: tokensToCopy content ids (drawn from [0, vocabSize − 2) with replacement)
 * scattered in order among blanks, then the copy token, then tokensToCopy blanks on which the
 * content must be output in its order. With `selective: false` (plain copying) the content comes
 * first and the blanks after it. Length seqLen; chance 1 / (vocabSize − 2).
 *
 *   a _ _ b _ c _ _ [copy] _ _ _      targets on the last three: a b c
 */
export function madSelectiveCopying(rng: Rng, options: MadCopyOptions = {}): MadExample {
  const o = resolveMadCopy(options);
  const n = o.tokensToCopy;
  const prefix = o.seqLen - n - 1; // content + blanks before the copy token
  const content = Array.from({ length: n }, () => rng.int(o.vocabSize - 2));
  const at = o.selective
    ? distinctIds(rng, 0, prefix, n).sort((a, b) => a - b)
    : Array.from({ length: n }, (_, i) => i);
  const inputs = new Int32Array(o.seqLen).fill(o.blank);
  const targets = new Int32Array(o.seqLen).fill(MAD_IGNORE);
  at.forEach((p, i) => (inputs[p] = content[i]!));
  inputs[prefix] = o.copy;
  targets.set(content, prefix + 1);
  return { inputs, targets };
}

/** Options of {@link madCompression}. */
export interface MadCompressionOptions {
  /** Content ids [0, vocabSize − 1); vocabSize − 1 is the compression token. Default 16. */
  vocabSize?: number;
  /** Content tokens plus the compression token. Default 16. */
  seqLen?: number;
}

/** Checks compression options (naming the bad one); returns them with defaults and the ids. */
export function resolveMadCompression(
  o: MadCompressionOptions = {},
): Required<MadCompressionOptions> & { compress: number; firstQuery: number } {
  const r = { vocabSize: o.vocabSize ?? 16, seqLen: o.seqLen ?? 16 };
  checkInt('vocabSize', r.vocabSize, 2, 255);
  checkInt('seqLen', r.seqLen, 2, 256 - r.vocabSize + 1);
  return { ...r, compress: r.vocabSize - 1, firstQuery: r.vocabSize };
}

/**
 * Compression, in a causal-LM form. mad-lab's compression is an auto-encoder: an encoder reads
 * seqLen − 1 random ids and a compression token, and an MLP decoder rebuilds every id from the
 * encoder's state at the compression token plus a position embedding. A causal LM has no such
 * bottleneck, so here the sequence is followed by one query id per position (vocabSize + j asks
 * for content token j) and the model outputs the asked token on each query:
 *
 *   x₀ x₁ … x_{L−1} [C] q₀ q₁ … q_{L−1}       targets on q_j: x_j      (L = seqLen − 1)
 *
 * Attention can read x_j back directly; the recurrent models must keep the sequence in their
 * state. Length 2·seqLen − 1; chance 1 / (vocabSize − 1). The compression token itself (which
 * mad-lab also scores) is not scored.
 */
export function madCompression(rng: Rng, options: MadCompressionOptions = {}): MadExample {
  const o = resolveMadCompression(options);
  const l = o.seqLen - 1;
  const inputs = new Int32Array(2 * l + 1);
  const targets = new Int32Array(2 * l + 1).fill(MAD_IGNORE);
  for (let j = 0; j < l; j++) {
    inputs[j] = rng.int(o.vocabSize - 1);
    inputs[l + 1 + j] = o.firstQuery + j;
    targets[l + 1 + j] = inputs[j]!;
  }
  inputs[l] = o.compress;
  return { inputs, targets };
}

/** Options of {@link madMemorization}. */
export interface MadMemorizationOptions {
  /** Ids used; vocabSize − 1 is the insert token; keys are the lower half of the rest, values the upper. Default 256. */
  vocabSize?: number;
  /** Tokens per sequence (even: key, insert pairs). Default 32. */
  seqLen?: number;
  /** Seed of the fixed key → value map (not the caller's Rng: the map is the same in every sequence). Default 12345. */
  mapSeed?: number;
}

/** Checks memorization options (naming the bad one); returns them with defaults and the insert id. */
export function resolveMadMemorization(
  o: MadMemorizationOptions = {},
): Required<MadMemorizationOptions> & { insert: number } {
  const r = { vocabSize: o.vocabSize ?? 256, seqLen: o.seqLen ?? 32, mapSeed: o.mapSeed ?? 12345 };
  checkInt('vocabSize', r.vocabSize, 3, 256);
  checkInt('seqLen', r.seqLen, 2);
  if (r.seqLen % 2 !== 0) throw new RangeError(`seqLen must be even (key, insert pairs), got ${r.seqLen}`);
  if (!Number.isSafeInteger(r.mapSeed))
    throw new RangeError(`mapSeed must be a safe integer, got ${r.mapSeed}`);
  return { ...r, insert: r.vocabSize - 1 };
}

/**
 * The fixed key → value map of memorization: keys [0, h) paired with distinct values from
 * [h, vocabSize − 1) by a shuffle seeded with `mapSeed` (h = ⌊(vocabSize − 1) / 2⌋).
 */
export function madMemorizationMap(options: MadMemorizationOptions = {}): Map<number, number> {
  const o = resolveMadMemorization(options);
  const half = Math.floor((o.vocabSize - 1) / 2);
  const values = distinctIds(Rng.fromSeed(o.mapSeed), half, o.vocabSize - 1, half);
  return new Map(values.map((v, k) => [k, v]));
}

/**
 * Memorization: seqLen / 2 slots of (key, insert token); on each insert token the model outputs
 * the key's value under the fixed map (facts learnt in the weights, nothing to recall in context).
 * Keys are drawn with replacement. Chance 1 / ⌊(vocabSize − 1) / 2⌋ among the value ids.
 */
export function madMemorization(rng: Rng, options: MadMemorizationOptions = {}): MadExample {
  const o = resolveMadMemorization(options);
  const map = madMemorizationMap(o);
  const inputs = new Int32Array(o.seqLen);
  const targets = new Int32Array(o.seqLen).fill(MAD_IGNORE);
  for (let i = 0; i < o.seqLen; i += 2) {
    const key = rng.int(map.size);
    inputs[i] = key;
    inputs[i + 1] = o.insert;
    targets[i + 1] = map.get(key)!;
  }
  return { inputs, targets };
}
