// Corpora: the bundled SOTU and Moby-Dick packages load offline in the documented order; user
// files and folders load recursively in sorted order; bad input gives clear errors.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CorpusError, corpusBytes, loadCorpus } from '../src/index.js';

describe('bundled corpora', () => {
  it('sotu: every address, oldest first, as named documents', () => {
    const c = loadCorpus('sotu');
    expect(c.documents.length).toBe(233);
    expect(c.documents[0].name).toBe('1790 George Washington');
    expect(c.documents[0].text.startsWith('Fellow-Citizens of the Senate')).toBe(true);
    const years = c.documents.map((d) => Number(d.name.slice(0, 4)));
    for (let i = 1; i < years.length; i++) expect(years[i]).toBeGreaterThanOrEqual(years[i - 1]);
    expect(c.documents.at(-1)!.name).toMatch(/^2021 /);
    expect(corpusBytes(c)).toBeGreaterThan(10_000_000);
    expect(new Set(c.documents.map((d) => d.name + d.text.length)).size).toBe(233);
  });

  it('moby-dick: 139 sections in book order', () => {
    const c = loadCorpus('moby-dick');
    expect(c.documents.length).toBe(139);
    expect(c.documents.map((d) => d.name).slice(0, 4)).toEqual([
      'contents',
      'etymology',
      'extracts',
      'chapter 1',
    ]);
    expect(c.documents.at(-1)!.name).toBe('epilogue');
    expect(c.documents[3].text).toMatch(/Call me Ishmael/);
  });
});

describe('user text', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nl-corpus-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a single file as one document (BOM dropped)', () => {
    const f = join(dir, 'a.txt');
    writeFileSync(f, '\uFEFFhello wörld\n');
    const c = loadCorpus(f);
    expect(c.documents).toEqual([{ name: f, text: 'hello wörld\n' }]);
  });

  it('loads a folder recursively in sorted order, skipping hidden and empty files', () => {
    mkdirSync(join(dir, 'b', 'deep'), { recursive: true });
    writeFileSync(join(dir, 'z.txt'), 'zzz');
    writeFileSync(join(dir, 'a.md'), 'aaa');
    writeFileSync(join(dir, 'b', 'deep', 'c.txt'), 'ccc');
    writeFileSync(join(dir, 'b', 'empty.txt'), '');
    writeFileSync(join(dir, '.hidden'), 'secret');
    symlinkSync(join(dir, 'z.txt'), join(dir, 'link.txt'));
    symlinkSync(dir, join(dir, 'b', 'loop')); // a cycle back to the root is read once
    const c = loadCorpus(dir);
    expect(c.documents.map((d) => d.name)).toEqual(['a.md', 'b/deep/c.txt', 'link.txt', 'z.txt']);
    expect(c.documents.map((d) => d.text).join('')).toBe('aaaccczzzzzz');
  });

  it('errors: missing path, empty file, empty folder, binary file, invalid UTF-8, empty spec', () => {
    expect(() => loadCorpus(join(dir, 'nope'))).toThrow(/does not exist/);
    writeFileSync(join(dir, 'empty.txt'), '');
    expect(() => loadCorpus(join(dir, 'empty.txt'))).toThrow(/is empty/);
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    expect(() => loadCorpus(sub)).toThrow(/contains no files/);
    writeFileSync(join(sub, 'e.txt'), '');
    expect(() => loadCorpus(sub)).toThrow(/every file .* is empty/);
    writeFileSync(join(dir, 'bin.dat'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01]));
    expect(() => loadCorpus(join(dir, 'bin.dat'))).toThrow(/bin\.dat looks binary/);
    writeFileSync(join(dir, 'latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9])); // "café" in Latin-1
    expect(() => loadCorpus(join(dir, 'latin1.txt'))).toThrow(/latin1\.txt is not valid UTF-8/);
    expect(() => loadCorpus(dir)).toThrow(CorpusError); // the folder contains those bad files
    expect(() => loadCorpus('  ')).toThrow(/empty spec/);
  });
});
