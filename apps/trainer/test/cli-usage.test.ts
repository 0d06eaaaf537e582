// nl-train's usage paths a user meets first, run in-process: an unknown --model or command is a
// usage error (exit 2) that lists what exists once; eval and sample on a folder with no
// checkpoint say where they looked and the exact command that trains one (exit 1); every command
// refuses a device this process cannot serve before it reads a corpus or a checkpoint.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ModelRegistry } from '../src/model-api.js';
import { MODELS } from '../src/models.js';
import { bigramFactory } from './bigram-model.js';
import { run } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'nl-trainer-usage-'));
const registry: ModelRegistry = { bigram: bigramFactory(), other: bigramFactory() };
afterAll(() => rmSync(root, { recursive: true, force: true }));
/** Occurrences of `name` as a whole model name (so 'hope-tiny' does not count 'hope-tiny-live'). */
const count = (s: string, name: string) =>
  s.match(new RegExp(`(?<![\\w-])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`, 'g'))?.length ??
  0;

describe('nl-train usage errors', () => {
  it('--model nope: exit 2, one message listing the available models once, no "planned:"', async () => {
    const r = await run(['train', '--model', 'nope', '--checkpoint-dir', join(root, 'm', 'c')], { registry });
    expect(r.code).toBe(2);
    expect(r.err).toBe('nl-train: error: unknown model "nope"; available models: bigram, other\n');
    expect(r.out).toBe(''); // a usage error comes before the effective config
    const real = await run(['train', '--model', 'nope', '--checkpoint-dir', join(root, 'm2', 'c')]);
    expect(real.code).toBe(2);
    expect(real.err).not.toMatch(/planned/);
    for (const name of Object.keys(MODELS)) expect(count(real.err, name)).toBe(1);
  });

  it('compare --models with an unknown name: exit 2 before any training', async () => {
    const r = await run(['compare', '--models', 'bigram,nope', '--out', join(root, 'cmp')], { registry });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown model "nope"; available models: bigram, other/);
    expect(r.out).toBe('');
  });

  it("nl-train frobnicate: unknown command 'frobnicate', lists the commands, exit 2", async () => {
    const r = await run(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^nl-train: error: unknown command 'frobnicate'\n/);
    expect(r.err).toMatch(/commands: train \(the default\), compare, eval, sample, export, help/);
    expect(r.err).not.toMatch(/too many arguments/);
    expect(r.out).toBe('');
    // flags alone still run the default command; known commands still dispatch
    const h = await run(['--help']);
    expect(h.code).toBe(0);
    const e = await run(['help', 'sample']);
    expect(e.code).toBe(0);
    expect(e.out).toMatch(/--top-k/);
  });

  for (const cmd of ['eval', 'sample']) {
    it(`${cmd} on a folder with no checkpoint: where it looked and the command to train one, exit 1`, async () => {
      const missing = join(root, `no-${cmd}`);
      const r = await run([cmd, '--checkpoint-dir', missing], { registry });
      expect(r.code).toBe(1);
      expect(r.err).toBe(
        `nl-train: error: no checkpoint found in ${missing} (the folder does not exist)\n` +
          `${cmd} needs a trained checkpoint; train one first (add --model <name> for another model than the default):\n` +
          `  nl-train train --checkpoint-dir ${missing}\n` +
          `  pnpm train train --checkpoint-dir ${missing}   (from the repository root)\n`,
      );
      const empty = join(root, `empty-${cmd}`);
      mkdirSync(empty);
      const r2 = await run([cmd, '--checkpoint-dir', empty], { registry });
      expect(r2.code).toBe(1);
      expect(r2.err).toMatch(
        new RegExp(`no checkpoint found in .*empty-${cmd} \\(it has no manifest\\.json\\)`),
      );
      expect(r2.err).not.toMatch(/ENOENT|\n\s+at /);
    });
  }

  it('train --resume with no checkpoint says to start without --resume', async () => {
    const missing = join(root, 'no resume');
    const r = await run(['train', '--resume', '--checkpoint-dir', missing], { registry });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /nothing to resume; start the run without --resume:\n {2}nl-train train --checkpoint-dir '.*no resume'\n/,
    );
  });

  describe('a device this process cannot serve is refused before any corpus, checkpoint or model work', () => {
    const missing = join(root, 'no-such-corpus');
    const nowhere = join(root, 'no-such-checkpoint');
    const cases: [string, string[]][] = [
      ['train', ['train', '--model', 'bigram', '--corpus', missing, '--checkpoint-dir', join(root, 'd1')]],
      ['eval', ['eval', '--corpus', missing, '--checkpoint-dir', nowhere]],
      ['sample', ['sample', '--checkpoint-dir', nowhere]],
      ['compare', ['compare', '--models', 'bigram', '--corpus', missing, '--out', join(root, 'd2')]],
      ['train --resume', ['train', '--resume', '--checkpoint-dir', nowhere]],
    ];
    for (const [name, args] of cases) {
      it(`${name} --device cuda:3 / tpu → exit 2 naming the device`, async () => {
        const cuda = await run([...args, '--device', 'cuda:3'], { registry });
        expect(cuda.code).toBe(2);
        // no GPU here: the CUDA backend's reason; on a machine with a GPU, cuda:3 does not exist
        expect(cuda.err).toMatch(/--device cuda:3: .+; use --device cpu/);
        expect(cuda.err).not.toMatch(/corpus|checkpoint/);
        expect(cuda.out).not.toMatch(/corpus:/);
        const tpu = await run([...args, '--device', 'tpu'], { registry });
        expect(tpu.code).toBe(2);
        expect(tpu.err).toMatch(/"device"/);
        expect(tpu.err).not.toMatch(/corpus|checkpoint/);
      });
    }
  });
});
