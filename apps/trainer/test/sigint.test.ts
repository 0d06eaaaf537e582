// The real CLI's Ctrl-C wiring: with handleSigint, a SIGINT event during training makes main()
// finish the step, save a checkpoint, exit 130, and remove its listener again.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCheckpoint } from '@nl/hope';
import { afterAll, expect, it } from 'vitest';
import type { ModelRegistry } from '../src/model-api.js';
import { BigramLM, bigramFactory } from './bigram-model.js';
import { run, tinyFlags, writeCorpus } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'nl-trainer-sigint-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

it('SIGINT saves a checkpoint at the current step and exits 130', async () => {
  const corpus = writeCorpus(join(root, 'corpus'), 12, 400);
  const registry: ModelRegistry = {
    bigram: async (ctx) => {
      const m = (await bigramFactory()(ctx)) as BigramLM;
      const step = m.trainStep.bind(m);
      m.trainStep = (batch, lr) => {
        const loss = step(batch, lr);
        // a real signal is delivered as an event-loop event, i.e. after this synchronous step
        if (m.trainCalls === 3) setImmediate(() => process.emit('SIGINT'));
        return loss;
      };
      return m;
    },
  };
  const before = process.listenerCount('SIGINT');
  const r = await run(tinyFlags(join(root, 'run'), corpus), { registry, handleSigint: true });
  expect(r.code).toBe(130);
  expect(r.err).toMatch(/Ctrl-C — finishing this step and saving a checkpoint/);
  expect(r.out).toMatch(/interrupted at step 3\/12/);
  expect(readCheckpoint(join(root, 'run', 'ckpt')).state.step).toBe(3);
  expect(process.listenerCount('SIGINT')).toBe(before);
});

it('SIGTERM saves a checkpoint like Ctrl-C and exits 130', async () => {
  const corpus = writeCorpus(join(root, 'corpus-term'), 12, 400);
  const registry: ModelRegistry = {
    bigram: async (ctx) => {
      const m = (await bigramFactory()(ctx)) as BigramLM;
      const step = m.trainStep.bind(m);
      m.trainStep = (batch, lr) => {
        const loss = step(batch, lr);
        if (m.trainCalls === 4) setImmediate(() => process.emit('SIGTERM'));
        return loss;
      };
      return m;
    },
  };
  const before = process.listenerCount('SIGTERM');
  const r = await run(tinyFlags(join(root, 'term'), corpus), { registry, handleSigint: true });
  expect(r.code).toBe(130);
  expect(r.err).toMatch(/SIGTERM — finishing this step and saving a checkpoint/);
  expect(readCheckpoint(join(root, 'term', 'ckpt')).state.step).toBe(4);
  expect(process.listenerCount('SIGTERM')).toBe(before);
});

it('a second Ctrl-C that arrives during the same step stops at once, without saving', async () => {
  const corpus = writeCorpus(join(root, 'corpus-twice'), 12, 400);
  const ckpt = join(root, 'twice', 'ckpt');
  const exits: { code: number; checkpointed: boolean }[] = [];
  const registry: ModelRegistry = {
    bigram: async (ctx) => {
      const m = (await bigramFactory()(ctx)) as BigramLM;
      const step = m.trainStep.bind(m);
      m.trainStep = (batch, lr) => {
        const loss = step(batch, lr);
        // two signals queued during one synchronous step are delivered back to back after it
        if (m.trainCalls === 3)
          setImmediate(() => {
            process.emit('SIGINT');
            process.emit('SIGINT');
          });
        return loss;
      };
      return m;
    },
  };
  const r = await run(tinyFlags(join(root, 'twice'), corpus), {
    registry,
    handleSigint: true,
    exit: (code) => exits.push({ code, checkpointed: readCheckpointSafe(ckpt) }),
  });
  expect(exits).toEqual([{ code: 130, checkpointed: false }]);
  expect(r.err).toMatch(/Ctrl-C again — stopping now without saving/);
});

function readCheckpointSafe(dir: string): boolean {
  try {
    readCheckpoint(dir);
    return true;
  } catch {
    return false;
  }
}
