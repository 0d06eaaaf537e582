// nl-train's bad-input paths, run in-process: a model with no factory, unknown
// config keys and options, bad values, missing and corrupt checkpoints, empty corpora. Each gives
// a clear message and a non-zero exit code, and nothing on disk is overwritten.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelRegistry } from '../src/model-api.js';
import { BigramLM, bigramFactory } from './bigram-model.js';
import { run, tinyFlags, writeCorpus } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'nl-trainer-err-'));
const corpus = writeCorpus(join(root, 'corpus'), 12, 400);
const registry: ModelRegistry = { bigram: bigramFactory() };
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('nl-train errors', () => {
  it('a planned model with no factory (empty registry) is named with what it needs; exit 1, nothing written', async () => {
    const ckpt = join(root, 'default', 'ckpt');
    const r = await run(['train', '--checkpoint-dir', ckpt, '--plot-dir', join(root, 'default')], {
      registry: {},
    });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /model "hope-tiny" is not available yet: it needs HopeLM from @nl\/hope .* apps\/trainer\/src\/models\.ts/,
    );
    expect(r.out).toMatch(/effective config/);
    expect(existsSync(join(root, 'default'))).toBe(false);
  });

  it('an unknown model is a usage error (exit 2) listing the registered ones', async () => {
    const r = await run(['train', '--model', 'gpt5', '--checkpoint-dir', join(root, 'u', 'c')], { registry });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown model "gpt5"; available models: bigram\n/);
  });

  it('unknown config-file key → exit 2 naming the key', async () => {
    const f = join(root, 'bad.json');
    writeFileSync(f, JSON.stringify({ seqLen: 8, sequenceLength: 8 }));
    const r = await run(['train', '--config', f], { registry });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown config key "sequenceLength" in .*bad\.json/);
  });

  it('bad flag value → exit 2 naming the key; unknown option → exit 2', async () => {
    const r = await run(['train', '--batch-size', 'many'], { registry });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/"batchSize" \(--batch-size\) must be an integer >= 1, got "many"/);
    const u = await run(['train', '--learning-rate', '1'], { registry });
    expect(u.code).toBe(2);
    expect(u.err).toMatch(/unknown option '--learning-rate'/);
    const c = await run(['fly'], { registry });
    expect(c.code).toBe(2);
  });

  it('--help explains every option with its default and exits 0', async () => {
    const r = await run(['train', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /--seq-len <value>\s+tokens \(bytes\) predicted per sequence, T\s+\(default: 128\)/,
    );
    expect(r.out).toMatch(/--corpus <value>[^]*\(default: "sotu"\)/);
    expect(r.out).toMatch(/--resume/);
    for (const flag of [
      '--lr',
      '--schedule',
      '--warmup',
      '--optimizer',
      '--eval-interval',
      '--checkpoint-dir',
      '--checkpoint-interval',
      '--seed',
      '--threads',
      '--top-k',
      '--temperature',
    ]) {
      expect(r.out).toContain(flag);
    }
    const top = await run(['--help']);
    expect(top.code).toBe(0);
    expect(top.out).toMatch(/train[^]*eval[^]*sample/);
    const s = await run(['sample', '--help']);
    expect(s.out).toMatch(/--top-k <value>[^]*default: from the checkpoint's run, else 40/);
    expect(s.out).not.toContain('--lr');
  });

  it('empty corpus folder / empty file → exit 1 with the reason', async () => {
    const empty = join(root, 'empty');
    mkdirSync(empty);
    const r = await run(tinyFlags(join(root, 'e1'), empty), { registry });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/folder .*empty contains no files/);
    writeFileSync(join(empty, 'a.txt'), '');
    const r2 = await run(tinyFlags(join(root, 'e2'), join(empty, 'a.txt')), { registry });
    expect(r2.code).toBe(1);
    expect(r2.err).toMatch(/a\.txt is empty/);
    const small = join(root, 'small.txt');
    writeFileSync(small, 'tiny text');
    const r3 = await run(tinyFlags(join(root, 'e3'), small), { registry });
    expect(r3.code).toBe(1);
    expect(r3.err).toMatch(/fewer than seqLen \+ 1 = 17/);
    expect(existsSync(join(root, 'e3'))).toBe(false);
  });

  describe('checkpoints', () => {
    const dir = join(root, 'run');
    const ckpt = join(dir, 'ckpt');
    beforeAll(async () => {
      expect((await run(tinyFlags(dir, corpus), { registry })).code).toBe(0);
    });

    it('--resume / eval / sample on a missing checkpoint → exit 1 with how to train one', async () => {
      for (const cmd of [['train', '--resume'], ['eval'], ['sample']]) {
        const r = await run([...cmd, '--checkpoint-dir', join(root, 'nowhere')], { registry });
        expect(r.code).toBe(1);
        expect(r.err).toMatch(/no checkpoint found in .*nowhere \(the folder does not exist\)/);
        expect(r.err).toMatch(/nl-train train --checkpoint-dir .*nowhere\n/);
      }
    });

    it('a corrupt checkpoint is reported by file and left untouched', async () => {
      const f = join(ckpt, 'model.safetensors');
      const good = readFileSync(f);
      const bad = Buffer.from(good);
      bad[bad.length - 1] ^= 0xff;
      writeFileSync(f, bad);
      try {
        for (const cmd of [['train', '--resume'], ['eval'], ['sample']]) {
          const r = await run([...cmd, '--checkpoint-dir', ckpt], { registry });
          expect(r.code).toBe(1);
          expect(r.err).toMatch(/model\.safetensors does not match its SHA-256/);
        }
        expect(readFileSync(f).equals(bad)).toBe(true);
        expect(readdirSync(dir).sort()).toEqual(['ckpt', 'plots']);
      } finally {
        writeFileSync(f, good);
      }
    });

    it('a folder that is not a checkpoint is rejected', async () => {
      const r = await run(['eval', '--checkpoint-dir', join(root, 'corpus')], { registry });
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/no checkpoint found in .*corpus \(it has no manifest\.json\)/);
    });

    it('a checkpoint whose state or run config is damaged (but hashes match) → exit 1 naming it', async () => {
      const copy = join(root, 'damaged');
      const { readCheckpoint, writeCheckpoint } = await import('@nl/hope');
      const c = readCheckpoint(ckpt);
      writeCheckpoint(copy, { ...c, state: { step: 3, rng: null } });
      const r = await run(['eval', '--checkpoint-dir', copy], { registry });
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/state\.json lacks rng\.batches, tokensSeen or history/);
      writeCheckpoint(copy, {
        ...c,
        config: { ...c.config, trainer: { ...(c.config.trainer as object), seqLen: -4, speed: 1 } },
      });
      const r2 = await run(['sample', '--checkpoint-dir', copy], { registry });
      expect(r2.code).toBe(1);
      expect(r2.err).toMatch(/damaged\/config\.json holds an invalid run config: unknown config key "speed"/);
    });

    it('a non-finite loss stops the run with exit 1 and keeps the last good checkpoint', async () => {
      const dir2 = join(root, 'nan');
      const diverging: ModelRegistry = {
        bigram: async (ctx) => {
          const m = (await bigramFactory()(ctx)) as BigramLM;
          const step = m.trainStep.bind(m);
          m.trainStep = (batch, lr) => (m.trainCalls >= 6 ? NaN : step(batch, lr));
          return m;
        },
      };
      const r = await run(tinyFlags(dir2, corpus), { registry: diverging });
      expect(r.code).toBe(1);
      expect(r.err).toMatch(
        /training diverged: loss is NaN at step 7 \(lr [\d.e-]+\); no checkpoint was written; the last good one \(step 5\) is kept/,
      );
      const { readCheckpoint } = await import('@nl/hope');
      expect(readCheckpoint(join(dir2, 'ckpt')).state.step).toBe(5);
    });

    it('a model that throws during a step (e.g. non-finite state) → exit 1 naming the step; last checkpoint kept', async () => {
      const dir3 = join(root, 'throws');
      const throwing: ModelRegistry = {
        bigram: async (ctx) => {
          const m = (await bigramFactory()(ctx)) as BigramLM;
          const step = m.trainStep.bind(m);
          m.trainStep = (batch, lr) => {
            if (m.trainCalls >= 3) throw new Error('memory state has a non-finite value');
            return step(batch, lr);
          };
          return m;
        },
      };
      const r = await run(tinyFlags(dir3, corpus), { registry: throwing });
      expect(r.code).toBe(1);
      expect(r.err).toMatch(
        /training failed at step 4 \(lr [\d.e-]+\): memory state has a non-finite value; no checkpoint was written\n/,
      );
      expect(existsSync(join(dir3, 'ckpt'))).toBe(false);
    });

    it('resuming with another --model → exit 2', async () => {
      const r = await run(['train', '--resume', '--checkpoint-dir', ckpt, '--model', 'other'], { registry });
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/--model other does not match the checkpoint's model "bigram"/);
    });
  });
});
