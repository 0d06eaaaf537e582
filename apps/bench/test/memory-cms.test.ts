/** Suite `memory`'s CMS rows: one loop and one fused row per batch, the fused row checked against the loop. */
import { describe, expect, it } from 'vitest';
import { cmsRows } from '../src/suites/memory-cms.js';

describe('memory suite: ContinuumMemory rows', () => {
  it('a loop and a fused row per batch; the fused output and Δ agree with the loop', async () => {
    const rows = await cmsRows({ batches: [1], seqLen: 32, timeMs: 1 });
    expect(rows.map((r) => r.impl)).toEqual(['ContinuumMemory loop f32', 'ContinuumMemory fused f32']);
    for (const r of rows) {
      expect(r.unit).toBe('tok/s');
      expect(r.rate).toBeGreaterThan(0);
    }
    expect(rows[0]!.ratio).toBe(1);
    const m = /rel RMS vs loop: y ([\d.e+-]+), Δ ([\d.e+-]+)/.exec(rows[1]!.note ?? '');
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(1e-5);
    expect(Number(m![2])).toBeLessThan(1e-5);
    expect(Number(m![2])).toBeGreaterThanOrEqual(0);
  }, 120000);
});
