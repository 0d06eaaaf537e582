// nl-train export: a hope checkpoint becomes an ONNX forward graph that onnxruntime-node runs to the
// model's logits, and a step graph whose inputs are the whole fast state (see @nl/hope's tests for
// the step graph == HopeDecoder token by token).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { HopeLM, hopePreset, hopeStateNames, saveCheckpoint } from '@nl/hope';
import { tensor } from '@nl/tensor';
import { run } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'nl-trainer-export-hope-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('nl-train export --onnx (hope)', () => {
  it('forward graph == model.forward in ORT; --step graph takes the fast state', async () => {
    const model = new HopeLM(
      hopePreset('hope-tiny', { dim: 16, heads: 2, memoryHidden: 4, cmsHidden: 16, chunkMem: 2, chunkOther: 2, seed: 5 }), // prettier-ignore
    );
    const dir = join(root, 'hope', 'checkpoint');
    saveCheckpoint(dir, { model, step: 0, rng: null });
    const file = join(root, 'hope.onnx');
    const r = await run(['export', '--checkpoint-dir', dir, '--onnx', file]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/forward graph .* -> .*hope\.onnx/);
    const ids = Int32Array.of(1, 2, 3, 250, 7);
    const want = model.forward(tensor(ids, { shape: [1, 5], dtype: 'int32' })).dataSync();
    const session = await ort.InferenceSession.create(readFileSync(file));
    const got = (await session.run({ ids: new ort.Tensor('int32', ids, [1, 5]) })).logits!
      .data as Float32Array;
    await session.release();
    let scale = 0;
    for (const v of want) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-4 * scale);

    const s = await run([
      'export',
      '--checkpoint-dir',
      dir,
      '--onnx',
      join(root, 'hope-step.onnx'),
      '--step',
    ]);
    expect(s.code).toBe(0);
    const step = await ort.InferenceSession.create(readFileSync(join(root, 'hope-step.onnx')));
    expect([...step.inputNames].sort()).toEqual(['ids', ...hopeStateNames(model)].sort());
    expect(step.outputNames).toContain('titans_1_mem_w2_out');
    await step.release();
    model.dispose();
  });
});
