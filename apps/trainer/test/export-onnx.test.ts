// nl-train export: a transformer checkpoint becomes an ONNX file that onnxruntime-node runs to the
// model's logits; other model kinds and a missing flag are refused with a message.
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

  it('deltanet: --step writes the step graph, the forward is refused naming what exists; a missing --onnx is a usage error', async () => {
    const model = buildModel(preset('deltanet', 'tiny', { dim: 32, layers: 1, heads: 2, seed: 5 }));
    const dir = join(root, 'dn', 'checkpoint');
    saveCheckpoint(dir, { model, step: 0, rng: null });
    const r = await run(['export', '--checkpoint-dir', dir, '--onnx', join(root, 'dn.onnx')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no ONNX forward graph for deltanet models yet .*deltanet: --step/);
    const s = await run(['export', '--checkpoint-dir', dir, '--onnx', join(root, 'dn-step.onnx'), '--step']);
    expect(s.code).toBe(0);
    const session = await ort.InferenceSession.create(readFileSync(join(root, 'dn-step.onnx')));
    expect(session.inputNames).toEqual(['ids', 'conv_0', 'state_0']);
    await session.release();
    const u = await run(['export', '--checkpoint-dir', dir]);
    expect(u.code).toBe(2);
    expect(u.err).toMatch(/--onnx/);
  });
});
