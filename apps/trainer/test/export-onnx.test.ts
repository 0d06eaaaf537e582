// nl-train export: transformer, deltanet and titans checkpoints become ONNX files that
// onnxruntime-node runs to the model's logits (forward) or loads with the state inputs (--step);
// a missing flag is a usage error.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { buildModel, preset, saveCheckpoint } from '@nl/hope';
import { tensor } from '@nl/tensor';
import { run } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'nl-trainer-export-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('nl-train export --onnx', () => {
  it('writes the forward graph of a transformer checkpoint; ORT gives the model logits', async () => {
    const model = buildModel(
      preset('transformer', 'tiny', { dim: 32, layers: 1, heads: 2, mlpHidden: 40, seed: 5 }),
    );
    const dir = join(root, 'tf', 'checkpoint');
    saveCheckpoint(dir, { model, step: 0, rng: null });
    const file = join(root, 'tf.onnx');
    const r = await run(['export', '--checkpoint-dir', dir, '--onnx', file, '--max-len', '32']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/forward graph .* -> .*tf\.onnx/);
    const ids = Int32Array.of(1, 2, 3, 250, 7);
    const want = model.forward(tensor(ids, { shape: [1, 5], dtype: 'int32' })).dataSync();
    const session = await ort.InferenceSession.create(readFileSync(file));
    const got = (await session.run({ ids: new ort.Tensor('int32', ids, [1, 5]) })).logits!
      .data as Float32Array;
    await session.release();
    let scale = 0;
    for (const v of want) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-5 * scale);
  });

  it.each([
    ['deltanet', ['ids', 'conv_0', 'state_0']],
    ['titans', ['ids', 'conv_0', 'w1_0', 'w2_0', 's1_0', 's2_0', 'a1_0', 'a2_0', 'position']],
  ] as const)(
    '%s: the forward graph gives the model logits in ORT; --step writes the step graph with its state inputs',
    async (kind, stepInputs) => {
      const model = buildModel(preset(kind, 'tiny', { dim: 32, layers: 1, heads: 2, seed: 5, chunkSize: 2 }));
      const dir = join(root, kind, 'checkpoint');
      saveCheckpoint(dir, { model, step: 0, rng: null });
      const file = join(root, `${kind}.onnx`);
      const r = await run(['export', '--checkpoint-dir', dir, '--onnx', file]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const ids = Int32Array.of(1, 2, 3, 250, 7);
      const want = model.forward(tensor(ids, { shape: [1, 5], dtype: 'int32' })).dataSync();
      const session = await ort.InferenceSession.create(readFileSync(file));
      const got = (await session.run({ ids: new ort.Tensor('int32', ids, [1, 5]) })).logits!
        .data as Float32Array;
      await session.release();
      let scale = 0;
      for (const v of want) scale = Math.max(scale, Math.abs(v));
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-4 * scale);
      const stepFile = join(root, `${kind}-step.onnx`);
      const s = await run(['export', '--checkpoint-dir', dir, '--onnx', stepFile, '--step']);
      expect(s.code).toBe(0);
      expect(s.out).toMatch(/step graph .* -> /);
      const step = await ort.InferenceSession.create(readFileSync(stepFile));
      expect(step.inputNames).toEqual(stepInputs);
      await step.release();
    },
  );

  it('a missing --onnx is a usage error', async () => {
    const u = await run(['export', '--checkpoint-dir', join(root, 'nowhere')]);
    expect(u.code).toBe(2);
    expect(u.err).toMatch(/--onnx/);
  });
});
