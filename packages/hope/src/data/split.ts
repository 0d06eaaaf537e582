/**
 * The deterministic train/validation split. Documents keep their corpus order (documented per
 * corpus in builtin.ts / files.ts); with k = round(1 / valFraction) (k = 10 by default):
 *
 * - **by document** when the corpus has at least k documents: document i (0-based) goes to
 *   validation iff i mod k = k − 1 — every 10th address of SOTU (23 of 233), every 10th section
 *   of Moby-Dick (13 of 139). Validation spans every era of the corpus and no document is in both.
 * - **by bytes** otherwise (e.g. a single file): the last ceil(valFraction × n) bytes of each
 *   document of n bytes, moved forward to the next UTF-8 character start, go to validation.
 *
 * Each side is the UTF-8 bytes of its pieces joined by DOCUMENT_SEPARATOR. No randomness: the
 * same corpus always gives the same split.
 */
import { CorpusError, DOCUMENT_SEPARATOR, type Corpus } from './types.js';

/** Options of {@link splitCorpus}. */
export interface SplitOptions {
  /** Fraction of the corpus held out for validation, in (0, 0.5]. Default 0.1. */
  valFraction?: number;
}

/** A split corpus as bytes (token ids of the byte tokenizer). */
export interface CorpusSplit {
  /** Training bytes, shape [trainBytes]. */
  readonly train: Uint8Array;
  /** Validation bytes, shape [valBytes]. */
  readonly val: Uint8Array;
  /** Which rule applied. */
  readonly rule: 'document' | 'bytes';
  /** Names of the documents (wholly or partly) in each side. */
  readonly trainDocuments: readonly string[];
  readonly valDocuments: readonly string[];
}

const encoder = new TextEncoder();

function join(parts: Uint8Array[]): Uint8Array {
  const sepBytes = encoder.encode(DOCUMENT_SEPARATOR);
  let n = 0;
  for (const p of parts) n += p.length;
  n += Math.max(0, parts.length - 1) * sepBytes.length;
  const out = new Uint8Array(n);
  let o = 0;
  parts.forEach((p, i) => {
    if (i > 0) {
      out.set(sepBytes, o);
      o += sepBytes.length;
    }
    out.set(p, o);
    o += p.length;
  });
  return out;
}

/** First index >= i that starts a UTF-8 character (not a 10xxxxxx continuation byte). */
function charStart(bytes: Uint8Array, i: number): number {
  while (i < bytes.length && (bytes[i] & 0xc0) === 0x80) i++;
  return i;
}

/**
 * Split a corpus into training and validation bytes by the fixed rule above.
 * @throws RangeError for valFraction outside (0, 0.5]; CorpusError when a side would be empty
 */
export function splitCorpus(corpus: Corpus, options: SplitOptions = {}): CorpusSplit {
  const valFraction = options.valFraction ?? 0.1;
  if (!(valFraction > 0 && valFraction <= 0.5))
    throw new RangeError(`valFraction must be in (0, 0.5], got ${valFraction}`);
  const docs = corpus.documents;
  if (docs.length === 0) throw new CorpusError(`corpus ${corpus.name} has no documents`);
  const k = Math.round(1 / valFraction);
  const train: Uint8Array[] = [];
  const val: Uint8Array[] = [];
  const trainNames: string[] = [];
  const valNames: string[] = [];
  const rule = docs.length >= k ? 'document' : 'bytes';
  if (rule === 'document') {
    docs.forEach((d, i) => {
      const bytes = encoder.encode(d.text);
      if (i % k === k - 1) {
        val.push(bytes);
        valNames.push(d.name);
      } else {
        train.push(bytes);
        trainNames.push(d.name);
      }
    });
  } else {
    for (const d of docs) {
      const bytes = encoder.encode(d.text);
      const cut = charStart(bytes, bytes.length - Math.ceil(valFraction * bytes.length));
      if (cut > 0) {
        train.push(bytes.subarray(0, cut));
        trainNames.push(d.name);
      }
      if (cut < bytes.length) {
        val.push(bytes.subarray(cut));
        valNames.push(d.name);
      }
    }
  }
  const out = {
    train: join(train),
    val: join(val),
    rule,
    trainDocuments: trainNames,
    valDocuments: valNames,
  } as const;
  if (out.train.length === 0 || out.val.length === 0) {
    throw new CorpusError(
      `corpus ${corpus.name} is too small to split (train ${out.train.length} bytes, validation ${out.val.length} bytes)`,
    );
  }
  return out;
}
