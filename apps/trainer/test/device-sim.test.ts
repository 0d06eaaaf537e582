// `nl-train train --device sim` (the simulated device of @nl/tensor/testing) runs end to end and
// prints the same losses as `--device cpu`: same seed, same batches, and 'sim' runs the CPU
// kernels behind the registry, so every step's loss, the validation bpb and the sample are equal
// bit for bit. Unknown or unavailable devices are refused before the corpus is read.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Reporter, StepInfo } from '../src/progress.js';
import { run, writeCorpus } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'nl-trainer-sim-'));
const corpus = writeCorpus(join(root, 'corpus'), 12, 400);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A reporter that keeps every step's exact loss. */
function recorder(): Reporter & { steps: StepInfo[]; lines: string[] } {
  const steps: StepInfo[] = [];
  const lines: string[] = [];
  return {
    steps,
    lines,
    start: () => {},
    step: (i) => void steps.push(i),
    log: (l) => void lines.push(l),
    stop: () => {},
  };
}

/** A tiny transformer-tiny and hope-tiny run: a few seconds each. */
const flags = (model: string, device: string, dir: string) => [
  'train',
  '--model',
  model,
  '--device',
  device,
  '--corpus',
  corpus,
  '--seq-len',
  '40', // crosses hope-tiny's CMS chunk (32): the online scheme fires inside the step
  '--batch-size',
  '2',
  '--steps',
  '5',
  '--warmup',
  '1',
  '--eval-interval',
  '0',
  '--eval-batches',
  '1',
  '--checkpoint-dir',
  join(dir, 'ckpt'),
  '--plot-dir',
  dir,
  '--sample-length',
  '6',
  '--num-samples',
  '1',
];

describe('nl-train train --device sim', () => {
  for (const model of ['hope-tiny', 'transformer-tiny']) {
    it(`${model}: --steps 5 prints the same losses as --device cpu`, async () => {
      const got: Record<string, { out: string; losses: number[]; lines: string[] }> = {};
      for (const device of ['cpu', 'sim']) {
        const reporter = recorder();
        const r = await run(flags(model, device, join(root, `${model}-${device}`)), { reporter });
        expect(r.err).toBe('');
        expect(r.code).toBe(0);
        expect(r.out).toMatch(/^done: step 5\/5 \| .* val \d\.\d{4} bpb/m);
        const lines = reporter.lines.map((l) => l.replaceAll(`${model}-${device}`, `${model}-<device>`));
        got[device] = { out: r.out, losses: reporter.steps.map((s) => s.loss), lines };
      }
      const cpu = got.cpu!;
      const sim = got.sim!;
      expect(cpu.losses).toHaveLength(5);
      expect(sim.losses).toEqual(cpu.losses); // exact numbers, every step
      expect(sim.lines).toEqual(cpu.lines); // validation and checkpoint lines
      expect(sim.out).toMatch(/^device: sim \(simulated test device\), memory: \d+ tensors, [\d.]+ MiB$/m);
      expect(cpu.out).toMatch(/^device: cpu$/m);
      // same validation bpb and the same sample
      // the sample and the summary line (loss, val bpb), without timings and the run's own folder
      const tail = (o: string, device: string) =>
        o
          .slice(o.indexOf('--- sample 1 ---'))
          .replace(/\d+(\.\d+)?s\b|\d+ tok\/s/g, '')
          .replaceAll(`${model}-${device}`, `${model}-<device>`);
      expect(tail(sim.out, 'sim')).toEqual(tail(cpu.out, 'cpu'));
      const metrics = (d: string) => readFileSync(join(root, `${model}-${d}`, 'metrics.jsonl'), 'utf8');
      expect(metrics('sim')).toEqual(metrics('cpu'));
      // eval and sample read the checkpoint back onto the device: the same numbers and text
      const again: Record<string, string[]> = {};
      for (const device of ['cpu', 'sim']) {
        const ckpt = join(root, `${model}-${device}`, 'ckpt');
        const e = await run(['eval', '--checkpoint-dir', ckpt, '--device', device]);
        const s = await run(['sample', '--checkpoint-dir', ckpt, '--device', device]);
        expect(e.err + s.err).toBe('');
        expect([e.code, s.code]).toEqual([0, 0]);
        again[device] = [
          e.out.match(/^eval: .*$/m)![0].replaceAll(`${model}-${device}`, ''),
          s.out.slice(s.out.indexOf('--- sample 1 ---')),
        ];
      }
      expect(again.sim).toEqual(again.cpu);
      expect(again.cpu![0]).toMatch(/bits per byte/);
    }, 60_000);
  }

  it('--help lists sim as a test device', async () => {
    const r = await run(['train', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/--device <value>[\s\S]*'sim',\s+the\s+simulated\s+device\s+for\s+tests/);
  });

  it('refuses an unknown or unavailable device before reading the corpus', async () => {
    const missing = join(root, 'no-such-corpus');
    const bad = await run([
      'train',
      '--device',
      'tpu',
      '--corpus',
      missing,
      '--checkpoint-dir',
      join(root, 'x'),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/"device".*'cpu', 'cuda', 'cuda:N', 'auto' or 'sim'/);
    const cuda = await run([
      'train',
      '--device',
      'cuda:3',
      '--corpus',
      missing,
      '--checkpoint-dir',
      join(root, 'y'),
    ]);
    expect(cuda.code).toBe(2);
    // no GPU here (and none emulated in this child): the runtime's reason; with a GPU, cuda:3 does not exist
    expect(cuda.err).toMatch(/--device cuda:3: CUDA backend not available: .+; use --device cpu/);
    expect(cuda.err).not.toMatch(/corpus/);
  });
});
