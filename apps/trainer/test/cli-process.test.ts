// The built executable (dist/cli.js, made by `pnpm build`, which `pnpm test` runs first) as a
// real process: exit codes reach the shell and the default config names the missing model.
// Skipped, with a note, when dist/ has not been built.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const built = existsSync(cli);
if (!built) console.warn(`cli-process.test: ${cli} is not built; run \`pnpm build\` to include these tests`);
const cwd = mkdtempSync(join(tmpdir(), 'nl-trainer-proc-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

const nlTrain = (...args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });

describe.skipIf(!built)('nl-train as a process', () => {
  it('no arguments: prints the config, names the missing model, exits 1, writes nothing', () => {
    const r = nlTrain();
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/nl-train train: effective config/);
    expect(r.stderr).toMatch(/model "hope-tiny" is not available yet/);
    expect(existsSync(join(cwd, 'runs'))).toBe(false);
  });

  it('bad value exits 2; --help exits 0', () => {
    expect(nlTrain('train', '--lr', 'x').status).toBe(2);
    const h = nlTrain('--help');
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/Exit codes: 0 done, 1 error/);
  });
});
