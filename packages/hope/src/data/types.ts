/**
 * Corpus types shared by the loaders and the split: a corpus is an ordered, non-empty list of
 * text documents; {@link DOCUMENT_SEPARATOR} joins them when a split flattens them to bytes.
 */

/** One document of a corpus. */
export interface CorpusDocument {
  /** Stable identifier: e.g. `1790 George Washington`, `chapter 1`, or a relative file path. */
  readonly name: string;
  /** Its text (UTF-8 when encoded). */
  readonly text: string;
}

/** An ordered, non-empty list of documents. */
export interface Corpus {
  /** The spec it was loaded from (`sotu`, `moby-dick`, or the path as given). */
  readonly name: string;
  readonly documents: readonly CorpusDocument[];
}

/** Placed between consecutive documents when a corpus is flattened: a blank line. */
export const DOCUMENT_SEPARATOR = '\n\n';

/** Names accepted by {@link loadCorpus} besides paths. */
export const BUILTIN_CORPORA = ['sotu', 'moby-dick'] as const;

/** Error raised for a corpus that is missing, empty, unreadable or not text. */
export class CorpusError extends Error {
  override name = 'CorpusError';
}
