// The CPU suites' PyTorch peer rows (peers/torch_cpu.py via src/peers.ts). Without torch (CI) every
// peer row is present with a null rate and a note saying why; the skip path is forced here with a
// stand-in interpreter that answers like torch_cpu.py does when torch is missing, and with one that
// does not exist. Where some python3 imports torch, the torch chunked delta rule must equal our fused
// kernel (outputs and all input gradients) on a small case, the peer's own self-test (chunked vs a
// float64 token loop) must pass, and the transformer rows must time models of equal parameter count.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Row } from '../src/harness.js';
import { PEERS_DIR } from '../src/peers.js';
import { gemmSuite } from '../src/suites/gemm.js';
import { smallDeltaCase } from '../src/suites/memory.js';
import { oursDelta, relRms, torchDeltaCheck, withTorchDeltaRule } from '../src/suites/memory-torch.js';
import { transformerSuite } from '../src/suites/transformer.js';

const dir = mkdtempSync(join(tmpdir(), 'nl-peers-'));
const noTorch = join(dir, 'python-without-torch');
writeFileSync(
  noTorch,
  `#!/bin/sh\necho '{"error": "torch not importable: No module named torch"}'\nexit 3\n`,
);
chmodSync(noTorch, 0o755);
const saved = process.env.NL_PYTHON;
afterEach(() => {
  if (saved === undefined) delete process.env.NL_PYTHON;
  else process.env.NL_PYTHON = saved;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A python3 that imports torch ($NL_PYTHON, python3 on PATH, Debian's /usr/bin/python3), or null. */
function pythonWithTorch(): string | null {
  for (const py of [process.env.NL_PYTHON, 'python3', '/usr/bin/python3']) {
    if (py && spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return py;
  }
  return null;
}
const torchPython = pythonWithTorch();

const nativeDeltaRow = (pass: string): Row => ({
  suite: 'memory',
  case: `deltaRule ${pass} T=64`,
  impl: '@nl/native fused f32 C=64',
  rate: 1000,
  unit: 'tok/s',
  medianMs: 64,
});

describe('without torch the peer rows are skipped with the reason', () => {
  it.each([
    [noTorch, /^skipped: torch not importable: No module named torch/],
    [join(dir, 'no-such-python'), /^skipped: .*no-such-python not runnable/],
  ])(
    'NL_PYTHON=%s',
    async (python, reason) => {
      process.env.NL_PYTHON = python;
      const gemm = await gemmSuite({ sizes: [16], jsMaxSize: 16, timeMs: 1 });
      const t = gemm.find((r) => r.impl.startsWith('torch.matmul'))!;
      expect([t.rate, t.medianMs, t.ratio]).toEqual([null, null, null]);
      expect(t.note).toMatch(reason);
      // one torch row right after each fused deltaRule row, none after other rows
      const rows = withTorchDeltaRule([nativeDeltaRow('fwd'), nativeDeltaRow('fwd+bwd'), { ...nativeDeltaRow('fwd'), case: 'titansMlp fwd T=64' }], { seqLens: [64], heads: 4, dim: 64, chunkSize: 64, timeMs: 1, check: smallDeltaCase() }); // prettier-ignore
      expect(rows.map((r) => r.impl.split(' ')[0])).toEqual(['@nl/native', 'torch', '@nl/native', 'torch', '@nl/native']); // prettier-ignore
      for (const r of rows.filter((x) => x.impl.startsWith('torch'))) {
        expect(r.rate).toBeNull();
        expect(r.note).toMatch(reason);
      }
      const tr = await transformerSuite({ batch: 1, seq: 4, decodeTokens: 2, timeMs: 1, pool: { batch: 1, seq: 4, timeMs: 1 } }); // prettier-ignore
      expect(tr.map((r) => r.impl.split(' ')[0])).toEqual(['@nl/hope', 'torch', '@nl/hope', '@nl/hope', 'torch', 'pool', 'pool']); // prettier-ignore
      for (const r of tr) {
        if (r.impl.startsWith('torch'))
          expect([r.rate, r.ratio, r.note]).toEqual([null, null, expect.stringMatching(reason)]); // prettier-ignore
        else expect(r.rate).toBeGreaterThan(0);
      }
    },
    60_000,
  );
});

describe.skipIf(torchPython === null)('with torch importable', () => {
  it('torch chunked delta rule == our fused kernel: o and every input gradient (T=96, partial chunk)', () => {
    process.env.NL_PYTHON = torchPython!;
    const x = smallDeltaCase();
    for (const chunk of [64, 32]) {
      const got = torchDeltaCheck(x, chunk);
      expect(got.error).toBeUndefined();
      const ours = oursDelta(x, chunk);
      const pairs = [[got.o, ours.o], [got.dq, ours.dq], [got.dk, ours.dk], [got.dv, ours.dv], [got.dalpha, ours.dAlpha], [got.dbeta, ours.dBeta]] as const; // prettier-ignore
      for (const [a, b] of pairs) {
        expect(a).toHaveLength(b.length);
        expect(relRms(a!, b)).toBeLessThan(1e-4);
      }
    }
    // a different input gives a different answer (the comparison is not vacuous)
    const other = torchDeltaCheck(smallDeltaCase(40), 64);
    expect(relRms(other.o!, oursDelta(x, 64).o)).toBeGreaterThan(0.1);
  }, 60_000);

  it("the peer's self-test passes: chunked torch vs a float64 token loop, outputs and gradients", () => {
    const r = spawnSync(torchPython!, [join(PEERS_DIR, 'torch_cpu.py'), '--self-test'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const errs = JSON.parse(r.stdout) as Record<string, number>;
    expect(Object.keys(errs)).toContain('dalpha float32');
    for (const e of Object.values(errs)) expect(e).toBeLessThan(1e-5);
  }, 60_000);

  it('transformer and gemm rows carry torch rates; the two transformers have the same parameter count', async () => {
    process.env.NL_PYTHON = torchPython!;
    const tr = await transformerSuite({ batch: 1, seq: 8, decodeTokens: 2, timeMs: 1, pool: { batch: 1, seq: 4, timeMs: 1 } }); // prettier-ignore
    for (const r of tr.filter((x) => x.impl.startsWith('torch'))) {
      expect(r.rate).toBeGreaterThan(0);
      const m = /params ours (\d+), torch (\d+)/.exec(r.note!)!;
      expect(Number(m[1])).toBeGreaterThan(100_000);
      expect(m[2]).toBe(m[1]);
    }
    const gemm = await gemmSuite({ sizes: [16], jsMaxSize: 16, timeMs: 1 });
    expect(gemm.find((r) => r.impl.startsWith('torch.matmul'))!.note).toMatch(
      /^ours \/ torch = [\d.]+x; torch /,
    );
  }, 120_000);
});
