// nl-train with the default model, hope-tiny (HopeLM through the generic adapter), on a small
// config whose sequences cross a CMS chunk boundary (T = 40 > 32, so the online CMS scheme fires
// inside every training sequence): checkpoint + plots, Ctrl-C + --resume == the uninterrupted
// run bit for bit, and the checkpoint restored by @nl/hope's loadCheckpoint as a HopeLM.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HopeLM, loadCheckpoint, readCheckpoint } from '@nl/hope';
import { afterAll, describe, expect, it } from 'vitest';
import type { ModelRegistry } from '../src/model-api.js';
import { MODELS } from '../src/models.js';
import { run, writeCorpus } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'nl-trainer-hope-'));
const corpus = writeCorpus(join(root, 'corpus'), 20, 600);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const flags = (dir: string) => [
  'train',
  '--corpus',
  corpus,
  '--seq-len',
  '40',
  '--batch-size',
  '2',
  '--steps',
  '4',
  '--warmup',
  '1',
  '--eval-interval',
  '2',
  '--eval-batches',
  '1',
  '--checkpoint-dir',
  join(dir, 'ckpt'),
  '--plot-dir',
  dir,
  '--sample-length',
  '8',
  '--num-samples',
  '1',
];

describe('nl-train train (default model hope-tiny)', () => {
  it('trains, checkpoints and plots; Ctrl-C + --resume == uninterrupted, bit for bit', async () => {
    const whole = join(root, 'whole');
    const w = await run(flags(whole));
    expect(w.err).toBe('');
    expect(w.code).toBe(0);
    expect(w.out).toMatch(/model hope-tiny: [\d,]+ parameters/);
    expect(w.out).toMatch(/^done: step 4\/4 \| .* val \d\.\d{4} bpb/m);
    for (const f of ['curves.svg', 'curves.png', 'metrics.jsonl', 'ckpt/optimizer.safetensors'])
      expect(existsSync(join(whole, f))).toBe(true);

    const controller = new AbortController();
    let calls = 0;
    const interrupting: ModelRegistry = {
      'hope-tiny': async (ctx) => {
        const m = await MODELS['hope-tiny'](ctx);
        const step = m.trainStep.bind(m);
        m.trainStep = async (b, lr) => {
          const loss = await step(b, lr);
          if (++calls === 2) controller.abort();
          return loss;
        };
        return m;
      },
    };
    const parts = join(root, 'parts');
    expect((await run(flags(parts), { registry: interrupting, signal: controller.signal })).code).toBe(130);
    const p2 = await run(['train', '--resume', '--checkpoint-dir', join(parts, 'ckpt')]);
    expect(p2.err).toBe('');
    expect(p2.code).toBe(0);
    const a = readCheckpoint(join(whole, 'ckpt'));
    const b = readCheckpoint(join(parts, 'ckpt'));
    expect(b.state.history).toEqual(a.state.history);
    expect(Buffer.from(b.model).equals(Buffer.from(a.model))).toBe(true);
    expect(
      Buffer.from(b.extra['optimizer.safetensors']).equals(Buffer.from(a.extra['optimizer.safetensors'])),
    ).toBe(true);

    const ck = loadCheckpoint(join(whole, 'ckpt'));
    expect(ck.model).toBeInstanceOf(HopeLM);
    expect(ck.model.config).toMatchObject({ kind: 'hope', layers: 2, dim: 128, seed: 1337 });
    ck.model.dispose();
  });
});
