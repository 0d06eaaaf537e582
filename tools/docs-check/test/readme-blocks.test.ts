/**
 * Every ```ts / ```js block of every README.md in the repository runs as written: each block is
 * copied verbatim into its own module under .blocks/ (gitignored) and imported, so its imports
 * resolve like a user's project that depends on the @nl packages. A block that is not meant to
 * run on its own (a fragment, a signature) has `<!-- no-run -->` on the line before its fence.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..', '..');
const blocksDir = join(here, '..', '.blocks');

interface Block {
  readme: string; // repository-relative path
  line: number; // 1-based line of the opening fence
  lang: 'ts' | 'js';
  code: string;
}

/** README.md at the root and one level into each workspace folder. */
function readmes(): string[] {
  const out = [join(repo, 'README.md')];
  for (const dir of ['native', 'packages', 'apps', 'examples', 'tools']) {
    const abs = join(repo, dir);
    if (!existsSync(abs)) continue;
    if (existsSync(join(abs, 'README.md'))) out.push(join(abs, 'README.md'));
    for (const e of readdirSync(abs, { withFileTypes: true }))
      if (e.isDirectory() && existsSync(join(abs, e.name, 'README.md')))
        out.push(join(abs, e.name, 'README.md'));
  }
  return out;
}

const FENCE = /^```(ts|typescript|js|javascript)\s*$/;

/** The runnable blocks of one README (fences inside other fences are not nested in Markdown). */
export function extractBlocks(text: string, readme: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i]!.match(FENCE);
    if (!open && !lines[i]!.startsWith('```')) continue;
    let end = i + 1;
    while (end < lines.length && !lines[end]!.startsWith('```')) end++;
    const skip = i > 0 && lines[i - 1]!.trim() === '<!-- no-run -->';
    if (open && !skip) {
      const lang = open[1]!.startsWith('t') ? 'ts' : 'js';
      blocks.push({ readme, line: i + 1, lang, code: lines.slice(i + 1, end).join('\n') });
    }
    i = end;
  }
  return blocks;
}

const all = readmes().flatMap((f) => extractBlocks(readFileSync(f, 'utf8'), relative(repo, f)));
rmSync(blocksDir, { recursive: true, force: true });
mkdirSync(blocksDir, { recursive: true });

describe('README code blocks run as written', () => {
  it('finds the blocks (and the extractor honours no-run markers)', () => {
    expect(all.length).toBeGreaterThan(10);
    const sample = ['```ts', 'a()', '```', '<!-- no-run -->', '```ts', 'b()', '```', '```sh', 'c', '```'];
    expect(extractBlocks(sample.join('\n'), 'x').map((b) => b.code)).toEqual(['a()']);
  });

  for (const b of all)
    it(`${b.readme}:${b.line}`, async () => {
      const name = `${b.readme.replace(/[/.]/g, '_')}_${b.line}.${b.lang === 'ts' ? 'ts' : 'mjs'}`;
      const file = join(blocksDir, name);
      writeFileSync(file, `${b.code}\nexport {};\n`);
      await import(file);
    });
});
