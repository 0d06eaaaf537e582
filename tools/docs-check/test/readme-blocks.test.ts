/**
 * Every ```ts / ```js block of every README.md in the repository runs as written: each block is
 * copied verbatim into its own module under .blocks/ (gitignored) and imported, so its imports
 * resolve like a user's project that depends on the @nl packages; the ts blocks also type-check. A block that is not meant to
 * run on its own (a fragment, a signature) has `<!-- no-run -->` on the line before its fence.
 */
import { spawnSync } from 'node:child_process';
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
/** Each block as its own module (`export {}` keeps it one), named after its README and line. */
const files = new Map<string, Block>();
for (const b of all) {
  const file = join(
    blocksDir,
    `${b.readme.replace(/[/.]/g, '_')}_${b.line}.${b.lang === 'ts' ? 'ts' : 'mjs'}`,
  );
  writeFileSync(file, `${b.code}\nexport {};\n`);
  files.set(file, b);
}
const typesBuilt = ['native', 'packages/tensor', 'packages/optim', 'packages/memory', 'packages/hope'].every(
  (d) => existsSync(join(repo, d, 'dist', 'index.d.ts')),
);

describe('README code blocks run as written', () => {
  it('finds the blocks (and the extractor honours no-run markers)', () => {
    expect(all.length).toBeGreaterThan(10);
    const sample = ['```ts', 'a()', '```', '<!-- no-run -->', '```ts', 'b()', '```', '```sh', 'c', '```'];
    expect(extractBlocks(sample.join('\n'), 'x').map((b) => b.code)).toEqual(['a()']);
  });

  for (const [file, b] of files) it(`${b.readme}:${b.line}`, async () => void (await import(file)));

  // Against the packages' published .d.ts (tsconfig.blocks.json drops the development condition),
  // so a wrong option name or type in a README fails here even where JavaScript would ignore it.
  it.skipIf(!typesBuilt)('the ts blocks type-check against the built .d.ts of the packages', () => {
    const tsc = join(repo, 'node_modules', '.bin', 'tsc');
    const r = spawnSync(tsc, ['-p', join(here, '..', 'tsconfig.blocks.json')], { encoding: 'utf8' });
    // .blocks/<name>.ts(line,col): message -> README.md:line: message
    const errors = r.stdout
      .split('\n')
      .filter((l) => l.includes('error TS'))
      .map((l) => {
        const m = l.match(/([^/\\]+\.ts)\((\d+),\d+\): (.*)$/);
        const b = m ? files.get(join(blocksDir, m[1]!)) : undefined;
        return b ? `${b.readme}:${b.line + Number(m![2])}: ${m![3]}` : l;
      });
    expect(errors).toEqual([]);
    expect(r.status).toBe(0);
  });
});
