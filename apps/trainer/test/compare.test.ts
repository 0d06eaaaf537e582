// nl-train compare: several registered models trained on the same data and seed, one table.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCheckpoint } from '@nl/hope';
import { afterAll, describe, expect, it } from 'vitest';
import type { ModelRegistry } from '../src/model-api.js';
import { bigramFactory } from './bigram-model.js';
import { run, tinyFlags, writeCorpus } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'nl-trainer-cmp-'));
const corpus = writeCorpus(join(root, 'corpus'), 12, 400);
const registry: ModelRegistry = { bigram: bigramFactory(), 'bigram-m0': bigramFactory([], 0) };
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The tiny-run flags minus those compare sets itself. */
const flags = (out: string) => {
  const f = tinyFlags(root, corpus).slice(1);
  for (const drop of ['--model', '--checkpoint-dir', '--plot-dir', '--num-samples'])
    f.splice(f.indexOf(drop), 2);
  return ['compare', ...f, '--out', out];
};

describe('nl-train compare', () => {
  it('trains each model with the same config and writes the table', async () => {
    const out = join(root, 'cmp');
    const r = await run([...flags(out), '--models', 'bigram,bigram-m0'], { registry });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/=== bigram ===[^]*=== bigram-m0 ===/);
    const md = readFileSync(join(out, 'compare.md'), 'utf8');
    expect(md).toMatch(
      /corpus .*, 12 steps of 4×16 tokens, lr 30 \(cosine\), optimizer sgd, seed 7\.\nMachine: \d+× .*, load average/,
    );
    expect(md).toMatch(/^\| bigram \| \d\.\d{4} \| \d+ \| 65,536 \| [\dhms]+ \|$/m);
    expect(md).toMatch(/^\| bigram-m0 \| \d\.\d{4} \| \d+ \| 65,536 \| [\dhms]+ \|$/m);
    expect(r.out).toContain(md);
    const json = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8'));
    expect(json.rows.map((x: { model: string }) => x.model)).toEqual(['bigram', 'bigram-m0']);
    const a = readCheckpoint(join(out, 'bigram', 'checkpoint'));
    const b = readCheckpoint(join(out, 'bigram-m0', 'checkpoint'));
    expect(a.state.rng).toEqual(b.state.rng); // same batches drawn
    expect(json.rows[0].valBpb).toBe((a.state.history as { val: { bpb: number }[] }).val.at(-1)!.bpb);
    expect(json.rows[0].valBpb).not.toBe(json.rows[1].valBpb); // the models differ (momentum 0.9 vs 0)
    expect(r.out).not.toMatch(/--- sample/);
  });

  it('an unregistered model fails before any training; duplicates are a usage error', async () => {
    const out = join(root, 'cmp2');
    const r = await run([...flags(out), '--models', 'bigram,hope-tiny'], { registry });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/model "hope-tiny" is not available yet/);
    expect(existsSync(out)).toBe(false);
    const d = await run([...flags(out), '--models', 'bigram,bigram'], { registry });
    expect(d.code).toBe(2);
    expect(d.err).toMatch(/--models must list distinct model names/);
  });
});
