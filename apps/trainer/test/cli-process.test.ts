// The built executable (dist/cli.js, made by `pnpm build`, which `pnpm test` runs first) as a
// real process: a short real run of transformer-tiny writes runs/<model>/ under its working
// directory, a second run refuses to overwrite it (exit 2), bad values exit 2, --help exits 0.
// Skipped, with a note, when dist/ has not been built.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { writeCorpus } from './helpers.js';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const built = existsSync(cli);
if (!built) console.warn(`cli-process.test: ${cli} is not built; run \`pnpm build\` to include these tests`);
const cwd = mkdtempSync(join(tmpdir(), 'nl-trainer-proc-'));
const corpus = writeCorpus(join(cwd, 'corpus'), 12, 400);
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

const nlTrain = (...args: string[]) =>
  // frequent GCs make a tensor dropped without dispose() show up as the leak warning on stderr
  spawnSync(process.execPath, ['--gc-interval=5000', cli, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
  });

describe.skipIf(!built)('nl-train as a process', () => {
  it('a short real run writes runs/<model>/; the same command again refuses to overwrite (exit 2)', () => {
    const args = [
      'train',
      '--model',
      'transformer-tiny',
      '--corpus',
      corpus,
      '--seq-len',
      '16',
      '--batch-size',
      '2',
      '--steps',
      '3',
      '--eval-batches',
      '1',
      '--num-samples',
      '0',
    ];
    const r = nlTrain(...args);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/nl-train train: effective config/);
    expect(r.stdout).toMatch(/^done: step 3\/3/m);
    const manifest = join(cwd, 'runs', 'transformer-tiny', 'checkpoint', 'manifest.json');
    expect(existsSync(join(cwd, 'runs', 'transformer-tiny', 'curves.png'))).toBe(true);
    const before = readFileSync(manifest);
    const again = nlTrain(...args);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/already holds a checkpoint; pass --resume/);
    expect(readFileSync(manifest).equals(before)).toBe(true);
  });

  it('bad value exits 2; --help exits 0', () => {
    expect(nlTrain('train', '--lr', 'x').status).toBe(2);
    const h = nlTrain('--help');
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/Exit codes: 0 done, 1 error/);
  });
});
