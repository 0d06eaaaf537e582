// nl-train end to end with a real tiny model (the bigram in bigram-model.ts) registered as
// "bigram": training writes checkpoints, curves and metrics and lowers validation bpb; an
// interrupted + resumed run equals an uninterrupted one; eval and sample read the checkpoint.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCheckpoint } from '@nl/hope';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelRegistry } from '../src/model-api.js';
import { BigramLM, bigramFactory } from './bigram-model.js';
import { run, tinyFlags, writeCorpus } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'nl-trainer-e2e-'));
const corpus = writeCorpus(join(root, 'corpus'));
const registry: ModelRegistry = { bigram: bigramFactory() };
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('nl-train train (bigram model)', () => {
  const dir = join(root, 'full');
  let result: Awaited<ReturnType<typeof run>>;
  beforeAll(async () => {
    result = await run(tinyFlags(dir, corpus), { registry });
  });

  it('exits 0 and prints the effective config, progress lines, samples and a summary', () => {
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/effective config\n(.|\n)*seqLen\s+= 16\n/);
    expect(result.out).toMatch(/lr\s+= 30\n/);
    expect(result.out).toMatch(/corpus .*: 30 documents, .*split by document: 3 validation documents/);
    expect(result.out).toMatch(/^step 10\/12 \| loss \d+\.\d{4} \| lr /m);
    expect(result.out).toMatch(/step 4: validation \d\.\d{4} bits per byte/);
    expect(result.out).toMatch(/--- sample 1 ---\n/);
    expect(result.out.includes('\u001b')).toBe(false); // not a TTY: plain lines, no escape codes
    expect(result.out).toMatch(/^done: step 12\/12 \| .* val \d\.\d{4} bpb \| 65,536 params/m);
  });

  it('writes a valid checkpoint with config, RNG state and history', () => {
    const c = readCheckpoint(join(dir, 'ckpt'));
    expect(c.state.step).toBe(12);
    expect((c.config.trainer as Record<string, unknown>).seqLen).toBe(16);
    expect(c.config.model).toEqual({ kind: 'bigram', vocabSize: 256, momentum: 0.9 });
    expect(c.optimizer).toEqual({ name: 'sgd', momentum: 0.9, steps: 12 });
    const h = c.state.history as { train: unknown[]; val: { step: number; bpb: number }[] };
    expect(h.train.length).toBe(12);
    expect(h.val.map((v) => v.step)).toEqual([4, 8, 12]);
    expect(h.val[2].bpb).toBeLessThan(h.val[0].bpb); // it learns
    expect(h.val[2].bpb).toBeLessThan(6); // well below the 8 bits of a uniform byte model
  });

  it('writes curves.svg, curves.png and metrics.jsonl', () => {
    const svg = readFileSync(join(dir, 'plots', 'curves.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('bits per byte');
    const png = readFileSync(join(dir, 'plots', 'curves.png'));
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.length).toBeGreaterThan(5000);
    const lines = readFileSync(join(dir, 'plots', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.filter((l) => 'loss' in l).length).toBe(12);
    expect(lines.filter((l) => 'val_bpb' in l).map((l) => l.step)).toEqual([4, 8, 12]);
  });

  it('refuses to start over an existing checkpoint without --resume (exit 2, nothing overwritten)', async () => {
    const before = readFileSync(join(dir, 'ckpt', 'manifest.json'));
    const r = await run(tinyFlags(dir, corpus), { registry });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/already holds a checkpoint; pass --resume/);
    expect(readFileSync(join(dir, 'ckpt', 'manifest.json')).equals(before)).toBe(true);
  });

  it('eval reproduces the final validation bpb from the checkpoint', async () => {
    const r = await run(['eval', '--checkpoint-dir', join(dir, 'ckpt')], { registry });
    expect(r.code).toBe(0);
    const c = readCheckpoint(join(dir, 'ckpt'));
    const last = (c.state.history as { val: { bpb: number }[] }).val.at(-1)!.bpb;
    expect(r.out).toContain(`at step 12 on ${corpus}: ${last.toFixed(4)} bits per byte`);
  });

  it('eval --corpus scores another domain with the same model', async () => {
    const args = [
      'eval',
      '--checkpoint-dir',
      join(dir, 'ckpt'),
      '--corpus',
      'moby-dick',
      '--eval-batches',
      '2',
    ];
    const r = await run(args, { registry });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/corpus moby-dick: 139 documents/);
    expect(r.out).toMatch(/on moby-dick: \d\.\d{4} bits per byte over 128 bytes/);
  });

  it('sample is deterministic for a seed and changes with it', async () => {
    const args = [
      'sample',
      '--checkpoint-dir',
      join(dir, 'ckpt'),
      '--prompt',
      'the ',
      '--sample-length',
      '40',
    ];
    const a = await run(args, { registry });
    const b = await run(args, { registry });
    const c = await run([...args, '--seed', '99'], { registry });
    expect(a.code).toBe(0);
    const text = (r: { out: string }) => r.out.split('--- sample 1 ---\n')[1];
    expect(text(a).startsWith('the ')).toBe(true);
    expect(Buffer.byteLength(text(a).trimEnd())).toBeGreaterThan(30);
    expect(text(a)).toBe(text(b));
    expect(text(a)).not.toBe(text(c));
  });
});

describe('time limit', () => {
  it('stops after timeLimit minutes and finishes like a last step; resume continues', async () => {
    let clock = 0; // ms; each training step "takes" 20 s
    const timed: ModelRegistry = {
      bigram: async (ctx) => {
        const m = (await bigramFactory()(ctx)) as BigramLM;
        const step = m.trainStep.bind(m);
        m.trainStep = (batch, lr) => {
          clock += 20_000;
          return step(batch, lr);
        };
        return m;
      },
    };
    const dir = join(root, 'timed');
    const r = await run(tinyFlags(dir, corpus, ['--time-limit', '1']), { registry: timed, now: () => clock });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/time limit of 1 min reached at step 3\/12/);
    expect(r.out).toMatch(/^done: step 3\/12/m);
    const c = readCheckpoint(join(dir, 'ckpt'));
    expect(c.state.step).toBe(3);
    expect((c.state.history as { val: { step: number }[] }).val.map((v) => v.step)).toEqual([3]);
    expect(existsSync(join(dir, 'plots', 'curves.png'))).toBe(true);
    const more = await run(
      ['train', '--resume', '--checkpoint-dir', join(dir, 'ckpt'), '--time-limit', '0'],
      {
        registry,
      },
    );
    expect(more.code).toBe(0);
    expect(readCheckpoint(join(dir, 'ckpt')).state.step).toBe(12);
  });
});

describe('default corpus', () => {
  it('trains on SOTU with the documented split', async () => {
    const r = await run(tinyFlags(join(root, 'sotu'), 'sotu', ['--steps', '3', '--eval-batches', '2']), {
      registry,
    });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /corpus sotu: 233 documents, train \d+ bytes, validation \d+ bytes \(split by document: 23 validation documents\)/,
    );
    expect(r.out).toMatch(/^done: step 3\/3/m);
  });
});

describe('interrupt and resume', () => {
  it('Ctrl-C saves a checkpoint (exit 130); resuming gives exactly the uninterrupted run', async () => {
    const whole = join(root, 'whole');
    const parts = join(root, 'parts');
    expect((await run(tinyFlags(whole, corpus), { registry })).code).toBe(0);

    const controller = new AbortController();
    const interrupting: ModelRegistry = {
      bigram: async (ctx) => {
        const m = (await bigramFactory()(ctx)) as BigramLM;
        const step = m.trainStep.bind(m);
        m.trainStep = (batch, lr) => {
          const loss = step(batch, lr);
          if (m.trainCalls === 6) controller.abort(); // as if Ctrl-C arrived during step 6
          return loss;
        };
        return m;
      },
    };
    const first = await run(tinyFlags(parts, corpus), { registry: interrupting, signal: controller.signal });
    expect(first.code).toBe(130);
    expect(first.out).toMatch(/interrupted at step 6\/12; checkpoint saved/);
    expect(readCheckpoint(join(parts, 'ckpt')).state.step).toBe(6);
    expect(existsSync(join(parts, 'plots', 'curves.png'))).toBe(true);

    const second = await run(['train', '--resume', '--checkpoint-dir', join(parts, 'ckpt')], { registry });
    expect(second.err).toBe('');
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/resumed from .* at step 6/);

    const a = readCheckpoint(join(whole, 'ckpt'));
    const b = readCheckpoint(join(parts, 'ckpt'));
    expect(Buffer.from(b.model).equals(Buffer.from(a.model))).toBe(true);
    expect(
      Buffer.from(b.extra['optimizer.safetensors']).equals(Buffer.from(a.extra['optimizer.safetensors'])),
    ).toBe(true);
    expect(b.state.history).toEqual(a.state.history);
    expect(b.state.rng).toEqual(a.state.rng);
    expect(b.state.step).toBe(12);
  });

  it('resume can extend a finished run with --steps', async () => {
    const dir = join(root, 'extend');
    expect((await run(tinyFlags(dir, corpus), { registry })).code).toBe(0);
    const args = [
      'train',
      '--resume',
      '--checkpoint-dir',
      join(dir, 'ckpt'),
      '--steps',
      '15',
      '--threads',
      '2',
    ];
    const r = await run(args, { registry });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/steps\s+= 15/);
    expect(r.out).toMatch(/native CPU threads: 2\n/);
    expect(readCheckpoint(join(dir, 'ckpt')).state.step).toBe(15);
    const native = await import('@nl/native');
    expect(native.numThreads()).toBe(2);
    native.setNumThreads(0);
  });
});
