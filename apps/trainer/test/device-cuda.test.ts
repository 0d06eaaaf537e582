// `nl-train train --device cuda` end to end. Without a GPU the CUDA backend runs on the emulated
// device (every CUDA kernel run by the host emulator; enabled here), so this checks the whole
// training path through the CUDA kernels in CI: transformer-tiny, deltanet-tiny, titans-tiny and
// hope-tiny (their fused gated delta rule / Titans MLP / self-modifying Titans memories have CUDA
// kernels) train, their losses follow the CPU run's within float32 rounding (GEMM and reduction
// orders differ), the device line names the device, its memory and the GEMM, and eval / sample
// read the checkpoint back onto the device.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { enableCudaEmulation } from '@nl/tensor/testing';
import type { Reporter, StepInfo } from '../src/progress.js';
import { run, writeCorpus } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'nl-trainer-cuda-'));
const corpus = writeCorpus(join(root, 'corpus'), 12, 400);
afterAll(() => rmSync(root, { recursive: true, force: true }));

function recorder(): Reporter & { steps: StepInfo[] } {
  const steps: StepInfo[] = [];
  return { steps, start: () => {}, step: (i) => void steps.push(i), log: () => {}, stop: () => {} };
}

const flags = (model: string, device: string, dir: string) => [
  'train',
  '--model',
  model,
  '--device',
  device,
  '--corpus',
  corpus,
  '--seq-len',
  '24',
  '--batch-size',
  '2',
  '--steps',
  '4',
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
  '4',
  '--num-samples',
  '1',
  '--temperature',
  '0',
];

describe('nl-train train --device cuda', () => {
  it.each(['transformer-tiny', 'deltanet-tiny', 'titans-tiny', 'hope-tiny'])(
    '%s trains on cuda with the CPU losses (float32 tolerance); eval and sample run there',
    async (model) => {
      const mode = enableCudaEmulation();
      const losses: Record<string, number[]> = {};
      const outs: Record<string, string> = {};
      for (const device of ['cpu', 'cuda']) {
        const reporter = recorder();
        const r = await run(flags(model, device, join(root, model, device)), { reporter });
        expect(r.err).toBe('');
        expect(r.code).toBe(0);
        losses[device] = reporter.steps.map((s) => s.loss);
        outs[device] = r.out;
      }
      expect(losses.cuda).toHaveLength(4);
      losses.cuda!.forEach((l, i) =>
        expect(Math.abs(l - losses.cpu![i]!)).toBeLessThan(1e-4 * losses.cpu![i]!),
      );
      expect(outs.cuda).toMatch(
        new RegExp(
          `^device: cuda, memory: \\d+ tensors, [\\d.]+ MiB \\(.*${mode === 'emulated' ? 'emulated' : ''}.*allocator: [\\d.]+ MiB in use, [\\d.]+ MiB peak.*GEMM: .+\\)$`,
          'm',
        ),
      );
      const ckpt = join(root, model, 'cuda', 'ckpt');
      const e = await run(['eval', '--checkpoint-dir', ckpt, '--device', 'cuda', '--eval-batches', '1']);
      const s = await run(['sample', '--checkpoint-dir', ckpt, '--device', 'cuda']);
      expect(e.err + s.err).toBe('');
      expect([e.code, s.code]).toEqual([0, 0]);
      expect(e.out).toMatch(/^eval: .*bits per byte/m);
      expect(s.out).toMatch(/--- sample 1 ---/);
    },
    120_000,
  );
});
