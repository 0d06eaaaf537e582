/**
 * User text as a corpus: a UTF-8 file (one document) or a folder read recursively (one document
 * per file, files in sorted order of their path relative to the folder, compared by UTF-16 code
 * units so the order is the same everywhere). Hidden entries (names starting with `.`) are
 * skipped; symbolic links are followed (each folder read once). A file that looks binary — it contains a NUL byte or is not valid UTF-8 — is an
 * error naming the file, as is a missing path or a corpus with no text at all.
 */
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { CorpusError, type CorpusDocument } from './types.js';

const strictDecoder = new TextDecoder('utf-8', { fatal: true });

function listFiles(root: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>(); // real paths of folders entered, so symlink cycles end
  const walk = (dir: string): void => {
    const real = realpathSync(dir);
    if (seen.has(real)) return;
    seen.add(real);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out.push(full);
      else if (entry.isSymbolicLink()) {
        const st = statSync(full);
        if (st.isDirectory()) walk(full);
        else if (st.isFile()) out.push(full);
      }
    }
  };
  walk(root);
  const key = (f: string) => relative(root, f).split(sep).join('/');
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/**
 * Read one file as UTF-8 text.
 * @throws CorpusError if it contains a NUL byte or invalid UTF-8 (likely binary)
 */
export function readTextFile(path: string): string {
  const bytes = readFileSync(path);
  if (bytes.includes(0))
    throw new CorpusError(`corpus: ${path} looks binary (contains a NUL byte); only UTF-8 text is supported`);
  try {
    let text = strictDecoder.decode(bytes);
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // drop a UTF-8 byte-order mark
    return text;
  } catch {
    throw new CorpusError(`corpus: ${path} is not valid UTF-8 (binary file?); only UTF-8 text is supported`);
  }
}

/**
 * Load a text file or a folder of text files as documents.
 * @param path - file or folder
 * @returns documents named by path relative to the folder (or the file's own path), non-empty
 * @throws CorpusError for a missing path, a binary-looking file, or no text at all
 */
export function loadTextPath(path: string): CorpusDocument[] {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new CorpusError(
      `corpus: ${path} does not exist (expected sotu, moby-dick, or a UTF-8 text file or folder)`,
    );
  }
  if (st.isFile()) {
    const text = readTextFile(path);
    if (text.length === 0) throw new CorpusError(`corpus: ${path} is empty`);
    return [{ name: path, text }];
  }
  if (!st.isDirectory()) throw new CorpusError(`corpus: ${path} is neither a file nor a folder`);
  const files = listFiles(path);
  if (files.length === 0) throw new CorpusError(`corpus: folder ${path} contains no files`);
  const docs: CorpusDocument[] = [];
  for (const f of files) {
    const text = readTextFile(f);
    if (text.length > 0) docs.push({ name: relative(path, f).split(sep).join('/'), text });
  }
  if (docs.length === 0) throw new CorpusError(`corpus: every file in folder ${path} is empty`);
  return docs;
}
