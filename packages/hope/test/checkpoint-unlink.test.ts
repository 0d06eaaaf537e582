// A checkpoint folder whose previous copy cannot be removed (EACCES on `<dir>.old`, simulated
// with a mocked node:fs since the tests may run as root): the new checkpoint stays committed, the
// failure is a warning, and the leftover `.old` never blocks later checkpoints.
import * as realFs from 'node:fs';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';

const deny = { old: false };
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    rmSync: (path: realFs.PathLike, opts?: realFs.RmOptions) => {
      if (deny.old && /\.(old|trash-\d+-\d+)$/.test(String(path)) && fs.existsSync(path)) {
        const e = new Error(
          `EACCES: permission denied, unlink '${String(path)}/config.json'`,
        ) as NodeJS.ErrnoException;
        e.code = 'EACCES';
        throw e;
      }
      return fs.rmSync(path, opts);
    },
  };
});

const { readCheckpoint, writeCheckpoint } = await import('../src/checkpoint/folder.js');
const root = mkdtempSync(join(tmpdir(), 'nl-ckpt-unlink-'));
afterAll(() => realFs.rmSync(root, { recursive: true, force: true }));

const contents = (step: number) => ({
  model: Uint8Array.of(step, 1, 2),
  config: {},
  optimizer: {},
  state: { step, rng: [] },
});

it('EACCES removing the previous copy: committed, a warning, and later checkpoints still work', () => {
  const dir = join(root, 'ckpt');
  writeCheckpoint(dir, contents(1), { onWarning: () => {} });
  deny.old = true;
  const warnings: string[] = [];
  const r = writeCheckpoint(dir, contents(2), { onWarning: (m) => warnings.push(m) });
  expect(readCheckpoint(dir).state.step).toBe(2);
  expect(existsSync(`${dir}.old`)).toBe(true);
  expect(r.warnings).toEqual(warnings);
  expect(warnings.join('\n')).toMatch(
    /ckpt was written, but the previous copy .*ckpt\.old could not be removed \(EACCES/,
  );
  // the leftover .old (still not removable) must not block the next checkpoints
  for (const step of [3, 4]) {
    writeCheckpoint(dir, contents(step), { onWarning: (m) => warnings.push(m) });
    expect(readCheckpoint(dir).state.step).toBe(step);
  }
  expect(warnings.join('\n')).toMatch(/moved it to .*ckpt\.trash-\d+-\d+/);
  deny.old = false;
  writeCheckpoint(dir, contents(5), { onWarning: () => {} });
  expect(readCheckpoint(dir).state.step).toBe(5);
  expect(readdirSync(root).filter((n) => !n.includes('trash'))).toEqual(['ckpt']);
});
