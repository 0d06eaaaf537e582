// The inference suite decodes the same greedy tokens with our decoder and the exported ONNX step
// graph in onnxruntime-node (its rows say so), and reports a rate for each.
import { expect, it } from 'vitest';
import { inferenceSuite } from '../src/suites/inference.js';

it('inference suite: our decoder and the ORT step graph generate the same tokens', async () => {
  const rows = await inferenceSuite({ tokens: 6, runs: 1 });
  const cases = [...new Set(rows.map((r) => r.case.split(' ')[0]))];
  expect(cases).toEqual(['transformer-tiny', 'hope-tiny', 'deltanet-tiny', 'titans-tiny']);
  for (const c of cases)
    expect(rows.filter((r) => r.case.startsWith(c)).map((r) => r.impl)).toEqual([
      'onnxruntime-node (exported step graph)',
      ...(c === 'transformer-tiny' || c === 'deltanet-tiny'
        ? ['@nl/hope decoder (fused native block)', '@nl/hope decoder (tensor ops, unfused)']
        : ['@nl/hope decoder']),
    ]);
  for (const r of rows) {
    expect(r.note).toBe('same tokens');
    expect(r.rate).toBeGreaterThan(0);
    expect(r.unit).toBe('tok/s');
  }
});
