/**
 * The one corpus entry point `loadCorpus(spec)`: a corpus is an ordered list of text
 * documents. `spec` is a built-in name (`sotu`, the default corpus, or `moby-dick`; see
 * builtin.ts for their document order) or a path to a UTF-8 text file or folder (see files.ts).
 */
import { loadMobyDick, loadSotu } from './builtin.js';
import { loadTextPath } from './files.js';
import { BUILTIN_CORPORA, CorpusError, type Corpus } from './types.js';

/**
 * Load a corpus by spec.
 * @param spec - `sotu` (State of the Union addresses, 1790–2021), `moby-dick`, or a path to a
 *   UTF-8 text file or a folder of them (read recursively, in sorted order)
 * @throws CorpusError for a missing/empty/binary input
 */
export function loadCorpus(spec: string): Corpus {
  if (spec === 'sotu') return { name: spec, documents: loadSotu() };
  if (spec === 'moby-dick') return { name: spec, documents: loadMobyDick() };
  if (spec.trim() === '')
    throw new CorpusError(`corpus: empty spec; use one of ${BUILTIN_CORPORA.join(', ')} or a path`);
  return { name: spec, documents: loadTextPath(spec) };
}

/** Total UTF-8 size of a corpus's documents in bytes (separators not counted). */
export function corpusBytes(corpus: Corpus): number {
  let n = 0;
  for (const d of corpus.documents) n += Buffer.byteLength(d.text, 'utf8');
  return n;
}
