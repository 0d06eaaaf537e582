// One trainer per checkpoint folder (issue 15): a second `nl-train train` on a folder another run
// is using exits 1 naming the folder and the holder (before any step); a stale lock left by a
// dead trainer is taken over with a message; the lock is released when the run ends.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCheckpoint } from '@nl/hope';
import { afterAll, expect, it } from 'vitest';
import type { ModelRegistry } from '../src/model-api.js';
import { BigramLM, bigramFactory } from './bigram-model.js';
import { run, tinyFlags, writeCorpus, type RunResult } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'nl-trainer-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const corpus = writeCorpus(join(root, 'corpus'), 12, 400);

it('a second trainer on the same checkpoint folder is refused, naming the folder and the holder', async () => {
  const dir = join(root, 'two');
  let second: RunResult | undefined;
  let secondSteps = 0;
  const registry: ModelRegistry = {
    bigram: async (ctx) => {
      const m = (await bigramFactory()(ctx)) as BigramLM;
      const step = m.trainStep.bind(m);
      const first = ctx.config.plotDir.endsWith('first');
      (
        m as unknown as { trainStep: (...a: Parameters<BigramLM['trainStep']>) => Promise<number> }
      ).trainStep = async (batch, lr) => {
        if (!first) secondSteps++;
        if (first && m.trainCalls === 3 && !second) {
          second = await run(
            tinyFlags(dir, corpus, ['--plot-dir', join(dir, 'plots-second'), '--steps', '4']),
            { registry },
          );
        }
        return step(batch, lr);
      };
      return m;
    },
  };
  const r = await run(tinyFlags(dir, corpus, ['--plot-dir', join(dir, 'plots-first')]), { registry });
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  expect(second!.code).toBe(1);
  expect(second!.err).toContain(join(dir, 'ckpt'));
  expect(second!.err).toMatch(
    new RegExp(`in use by another process \\(pid ${process.pid} on ${hostname()}, started `),
  );
  expect(secondSteps).toBe(0);
  expect(readCheckpoint(join(dir, 'ckpt')).state.step).toBe(12);
  expect(existsSync(join(dir, 'ckpt.lock'))).toBe(false); // released at the end of the run
});

it('a stale lock of a dead trainer is taken over with a message', async () => {
  const dir = join(root, 'stale');
  mkdirSync(dir, { recursive: true });
  const pid = spawnSync(process.execPath, ['-e', '0']).pid!;
  writeFileSync(
    join(dir, 'ckpt.lock'),
    JSON.stringify({ pid, host: hostname(), started: '2020-01-01T00:00:00.000Z' }),
  );
  const r = await run(tinyFlags(dir, corpus), { registry: { bigram: bigramFactory() } });
  expect(r.code).toBe(0);
  expect(r.out).toMatch(new RegExp(`taking over the stale lock of .*ckpt \\(pid ${pid} on .*not running\\)`));
  expect(existsSync(join(dir, 'ckpt.lock'))).toBe(false);
});
