// A checkpoint folder whose parent is not writable is reported at start, before any training step
// (issue 15). Tests may run as root, where chmod does not deny anything, so node:fs is mocked to
// refuse creating files under one folder with EACCES.
import * as realFs from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';

const ro = { prefix: '\0' };
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const denied = (p: realFs.PathLike) => String(p).startsWith(ro.prefix);
  const eacces = (op: string, p: realFs.PathLike) =>
    Object.assign(new Error(`EACCES: permission denied, ${op} '${String(p)}'`), { code: 'EACCES' });
  return {
    ...fs,
    openSync: (p: realFs.PathLike, ...rest: unknown[]) => {
      if (denied(p)) throw eacces('open', p);
      return (fs.openSync as (...a: unknown[]) => number)(p, ...rest);
    },
    mkdirSync: (p: realFs.PathLike, ...rest: unknown[]) => {
      if (denied(p) && !fs.existsSync(p)) throw eacces('mkdir', p);
      return (fs.mkdirSync as (...a: unknown[]) => unknown)(p, ...rest);
    },
  };
});

const { run, tinyFlags, writeCorpus } = await import('./helpers.js');
const { bigramFactory } = await import('./bigram-model.js');
type BigramLM = import('./bigram-model.js').BigramLM;
const root = mkdtempSync(join(tmpdir(), 'nl-trainer-ro-'));
afterAll(() => realFs.rmSync(root, { recursive: true, force: true }));

it('a read-only checkpoint parent fails at start with exit 1, before any step', async () => {
  const corpus = writeCorpus(join(root, 'corpus'), 12, 400);
  const parent = join(root, 'ro');
  realFs.mkdirSync(parent);
  ro.prefix = parent;
  let steps = 0;
  const r = await run(tinyFlags(parent, corpus, ['--plot-dir', join(root, 'plots')]), {
    registry: {
      bigram: async (ctx) => {
        const m = (await bigramFactory()(ctx)) as BigramLM;
        const step = m.trainStep.bind(m);
        m.trainStep = (b, lr) => (steps++, step(b, lr));
        return m;
      },
    },
  });
  ro.prefix = '\0';
  expect(r.code).toBe(1);
  expect(r.err).toMatch(
    /cannot use --checkpoint-dir: checkpoint: cannot write in .*ro .*EACCES.*must be writable/,
  );
  expect(steps).toBe(0);
});
