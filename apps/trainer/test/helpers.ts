/**
 * Helpers for the trainer's end-to-end tests: run `main()` in-process with captured output, a
 * small deterministic English-like corpus folder, and the common flags of a tiny bigram run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Rng } from '@nl/hope';
import { main, type MainDeps } from '../src/main.js';

/** Output and exit code of one `nl-train` invocation. */
export interface RunResult {
  code: number;
  out: string;
  err: string;
}

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

/** Run nl-train with `args` (no `node script` prefix). */
export async function run(args: string[], deps: MainDeps = {}): Promise<RunResult> {
  const stdout = new Collect();
  const stderr = new Collect();
  const code = await main(['node', 'nl-train', ...args], { stdout, stderr, ...deps });
  return { code, out: stdout.text, err: stderr.text };
}

const WORDS =
  'the whale ship sea captain and of to a in his was that it he with as for on by at from all but not'.split(
    ' ',
  );

/** Write `docs` text files of ~`bytes` bytes each (seeded, so always the same) into `dir`. */
export function writeCorpus(dir: string, docs = 30, bytes = 800): string {
  mkdirSync(dir, { recursive: true });
  const rng = Rng.fromSeed(2024);
  for (let d = 0; d < docs; d++) {
    let text = '';
    while (text.length < bytes) {
      const n = 4 + rng.int(8);
      const words = Array.from({ length: n }, () => WORDS[rng.int(WORDS.length)]);
      text += words.join(' ') + '. ';
    }
    writeFileSync(join(dir, `doc-${String(d).padStart(2, '0')}.txt`), text);
  }
  return dir;
}

/** Flags of a tiny bigram run writing into `root`. */
export function tinyFlags(root: string, corpus: string, extra: string[] = []): string[] {
  return [
    'train',
    '--model',
    'bigram',
    '--optimizer',
    'sgd',
    '--corpus',
    corpus,
    '--seq-len',
    '16',
    '--batch-size',
    '4',
    '--steps',
    '12',
    '--lr',
    '30',
    '--warmup',
    '2',
    '--eval-interval',
    '4',
    '--eval-batches',
    '4',
    '--checkpoint-interval',
    '5',
    '--checkpoint-dir',
    join(root, 'ckpt'),
    '--plot-dir',
    join(root, 'plots'),
    '--sample-length',
    '24',
    '--num-samples',
    '1',
    '--seed',
    '7',
    ...extra,
  ];
}
