// nl-train end to end with the registered transformer-tiny (the real TransformerLM through the
// generic adapter, fused AdamW) on a small config: checkpoint files, plot files, a checkpoint
// that @nl/hope's loadCheckpoint restores to the same logits, Ctrl-C + --resume == the
// uninterrupted run bit for bit, eval/sample from the checkpoint.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint, readCheckpoint, TransformerLM } from '@nl/hope';
import { fromTypedArray, noGrad } from '@nl/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config.js';
import type { ModelRegistry } from '../src/model-api.js';
import { MODELS } from '../src/models.js';
import type { LanguageModelTrainer } from '../src/factories/language-model.js';
import { run, writeCorpus } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'nl-trainer-tf-'));
const corpus = writeCorpus(join(root, 'corpus'), 20, 600);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const flags = (dir: string, extra: string[] = []) => [
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
  '6',
  '--warmup',
  '2',
  '--eval-interval',
  '3',
  '--eval-batches',
  '2',
  '--checkpoint-interval',
  '4',
  '--checkpoint-dir',
  join(dir, 'ckpt'),
  '--plot-dir',
  dir,
  '--sample-length',
  '12',
  '--num-samples',
  '1',
  ...extra,
];

describe('nl-train train --model transformer-tiny', () => {
  const dir = join(root, 'whole');
  let out = '';
  beforeAll(async () => {
    const r = await run(flags(dir));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    out = r.out;
  });

  it('prints the model, validation, a sample and the summary', () => {
    expect(out).toMatch(/model transformer-tiny: [\d,]+ parameters/);
    expect(out).toMatch(/step 3: validation \d\.\d{4} bits per byte/);
    expect(out).toMatch(/--- sample 1 ---\n/);
    expect(out).toMatch(/^done: step 6\/6 \| .* val \d\.\d{4} bpb \| [\d,]+ params/m);
  });

  it('writes the checkpoint folder and the plots', () => {
    for (const f of [
      'model.safetensors',
      'config.json',
      'optimizer.json',
      'optimizer.safetensors',
      'state.json',
      'manifest.json',
    ])
      expect(existsSync(join(dir, 'ckpt', f))).toBe(true);
    for (const f of ['curves.svg', 'curves.png', 'metrics.jsonl'])
      expect(existsSync(join(dir, f))).toBe(true);
    const c = readCheckpoint(join(dir, 'ckpt'));
    expect(c.state.step).toBe(6);
    expect(c.config.model).toMatchObject({
      kind: 'transformer',
      vocabSize: 256,
      dim: 128,
      layers: 4,
      seed: 1337,
    });
    expect((c.config.trainer as Record<string, unknown>).seqLen).toBe(16);
    expect(c.optimizer).toMatchObject({ format: 'nl-optim/1', name: 'Muon' }); // the default optimizer
    expect(Array.isArray((c.state.rng as { batches: unknown }).batches)).toBe(true);
    expect(readFileSync(join(dir, 'curves.svg'), 'utf8').startsWith('<svg')).toBe(true);
  });

  it('@nl/hope loadCheckpoint restores the trained model: same logits as the trainer stream', async () => {
    const ck = loadCheckpoint(join(dir, 'ckpt'));
    expect(ck.model).toBeInstanceOf(TransformerLM);
    const ids = Int32Array.from(Buffer.from('the whale'));
    const fromCk = noGrad(() => {
      const t = fromTypedArray(ids, [1, ids.length]);
      const y = ck.model
        .forward(t)
        .dataSync()
        .slice((ids.length - 1) * 256);
      t.dispose();
      return y;
    });
    const trainer = (await MODELS['transformer-tiny']({
      config: resolveConfig(ck.config.trainer as Record<string, unknown>),
      vocabSize: 256,
      savedModelConfig: ck.config.model as Record<string, unknown>,
    })) as LanguageModelTrainer;
    const c = readCheckpoint(join(dir, 'ckpt'));
    trainer.load({ weights: c.model, optimizer: c.optimizer, extra: c.extra });
    const s = trainer.stream();
    const fromStream = await s.feed(ids);
    s.dispose?.();
    // the stream decodes with the fused native decoder on the CPU (a different float32 computation
    // than forward's tensor ops): equal to forward's row to float32 rounding
    expect(fromStream).toHaveLength(fromCk.length);
    const diff = Math.max(...Array.from(fromStream, (v, i) => Math.abs(v - fromCk[i]!)));
    expect(diff).toBeLessThan(1e-4);
    trainer.dispose();
    ck.model.dispose();
  });

  it('Ctrl-C at step 4 + --resume == the uninterrupted run, bit for bit', async () => {
    const controller = new AbortController();
    let calls = 0;
    const interrupting: ModelRegistry = {
      'transformer-tiny': async (ctx) => {
        const m = await MODELS['transformer-tiny'](ctx);
        const step = m.trainStep.bind(m);
        m.trainStep = async (b, lr) => {
          const loss = await step(b, lr);
          if (++calls === 4) controller.abort();
          return loss;
        };
        return m;
      },
    };
    const parts = join(root, 'parts');
    const p1 = await run(flags(parts), { registry: interrupting, signal: controller.signal });
    expect(p1.code).toBe(130);
    expect(readCheckpoint(join(parts, 'ckpt')).state.step).toBe(4);
    const p2 = await run(['train', '--resume', '--checkpoint-dir', join(parts, 'ckpt')]);
    expect(p2.err).toBe('');
    expect(p2.code).toBe(0);
    const a = readCheckpoint(join(dir, 'ckpt'));
    const b = readCheckpoint(join(parts, 'ckpt'));
    expect(b.state.history).toEqual(a.state.history); // every loss and validation bpb
    expect(Buffer.from(b.model).equals(Buffer.from(a.model))).toBe(true);
    expect(
      Buffer.from(b.extra['optimizer.safetensors']).equals(Buffer.from(a.extra['optimizer.safetensors'])),
    ).toBe(true);
    expect(b.state.rng).toEqual(a.state.rng);
  });

  it('eval reproduces the final validation bpb; sample streams text', async () => {
    const c = readCheckpoint(join(dir, 'ckpt'));
    const last = (c.state.history as { val: { bpb: number }[] }).val.at(-1)!.bpb;
    const e = await run(['eval', '--checkpoint-dir', join(dir, 'ckpt')]);
    expect(e.code).toBe(0);
    expect(e.out).toContain(`transformer-tiny at step 6 on ${corpus}: ${last.toFixed(4)} bits per byte`);
    const s = await run(['sample', '--checkpoint-dir', join(dir, 'ckpt'), '--prompt', 'the ']);
    expect(s.code).toBe(0);
    expect(s.out).toMatch(/--- sample 1 ---\nthe /);
  });
});
