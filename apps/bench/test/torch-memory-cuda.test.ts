// peers/torch_memory_cuda.py (the CUDA memory rows' torch peers): where some python3 imports torch,
// its --self-test must pass on the CPU: the chunked WY gated delta rule and the chunk-parallel Titans
// MLP memory against float64 token-by-token loops (outputs, final states, every input's gradient;
// float32 < 1e-4 and float64 < 1e-10 relative). Skipped without torch (CI without Python). Without a
// GPU the bench mode answers exit 3 with {"error"}, which the rows print as their note. The rows
// built from a peer's reply (a stand-in script) are checked against the reply's times.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { enableCudaEmulation } from '@nl/tensor/testing';
import type { Row } from '../src/harness.js';
import { PEERS_DIR } from '../src/peers.js';
import { cudaPeerRows } from '../src/suites/cuda-peers.js';

/** A python3 that imports torch ($NL_PYTHON, python3 on PATH, Debian's /usr/bin/python3), or null. */
function pythonWithTorch(): string | null {
  for (const py of [process.env.NL_PYTHON, 'python3', '/usr/bin/python3']) {
    if (py && spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return py;
  }
  return null;
}
const py = pythonWithTorch();
const script = PEERS_DIR + 'torch_memory_cuda.py';

it.skipIf(!py)(
  'the torch chunked delta rule and Titans MLP ops equal float64 token loops (self-test)',
  () => {
    const r = spawnSync(py!, [script, '--self-test'], { encoding: 'utf8', timeout: 120_000 });
    const reply = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      ok: boolean;
      worst: Record<string, number>;
    };
    expect(reply.ok, r.stdout).toBe(true);
    expect(r.status).toBe(0);
    // every output and every input's gradient of both ops was compared in both dtypes
    expect(Object.keys(reply.worst)).toHaveLength(2 * (2 + 6 + 5 + 10));
    for (const [k, e] of Object.entries(reply.worst))
      expect(e, k).toBeLessThan(k.endsWith('float64') ? 1e-10 : 1e-4);
  },
  130_000,
);

const torchSeesGpu =
  py !== null &&
  spawnSync(py, ['-c', 'import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)']).status === 0;

it.skipIf(!py || torchSeesGpu)(
  'without a CUDA device the bench mode answers exit 3 with the reason',
  () => {
    const r = spawnSync(py!, [script, JSON.stringify({ delta: [] })], { encoding: 'utf8', timeout: 60_000 });
    const reply = JSON.parse(r.stdout.trim().split('\n').pop()!) as { error?: string };
    expect(r.status).toBe(3);
    expect(reply.error).toMatch(/torch sees no CUDA device/);
  },
  70_000,
);

it('a peer reply becomes rows beside ours: rate = B·T / its ms, ratio = ours / torch; a failure becomes the note', async () => {
  enableCudaEmulation();
  const dir = mkdtempSync(join(tmpdir(), 'nl-mem-peer-'));
  const stand = join(dir, 'peer.sh');
  const reply = {
    torch: '9.9',
    device: 'stand-in',
    delta: [{ ms: 2 }],
    naive: { ms: 40 },
    titans: { ms: 5 },
  };
  writeFileSync(stand, `#!/bin/sh\necho '${JSON.stringify(reply)}'\n`);
  chmodSync(stand, 0o755);
  const saved = { py: process.env.NL_PYTHON, peer: process.env.NL_TORCH_MEMORY_PEER };
  process.env.NL_PYTHON = '/bin/sh';
  process.env.NL_TORCH_MEMORY_PEER = stand;
  try {
    const s = { batch: 1, seq: 8, heads: 2, dim: 4, chunk: 4 };
    const opts = { delta: [s], naiveSeq: 4, titans: { ...s, hidden: 3 } };
    const rows = await cudaPeerRows('cuda', opts, 5, '', false);
    expect(rows.map((r) => r.impl.split(' (')[0])).toEqual([
      '@nl cuda kernels',
      'torch chunked WY/UT',
      'torch ops token by token',
      '@nl cuda kernels',
      'torch ops, chunk-parallel',
    ]);
    const [ours, chunked, naive, oursT, titans] = rows as [Row, Row, Row, Row, Row];
    expect(chunked.rate).toBeCloseTo(8 / 2e-3, 6);
    expect(naive.rate).toBeCloseTo(4 / 40e-3, 6); // the token loop ran at its own T
    expect(titans.rate).toBeCloseTo(8 / 5e-3, 6);
    expect(chunked.ratio).toBeCloseTo(ours.rate! / chunked.rate!, 9);
    expect(titans.ratio).toBeCloseTo(oursT.rate! / titans.rate!, 9);
    expect(chunked.note).toMatch(/torch 9\.9 stand-in; ratio = ours \/ torch/);
    // a peer that fails: rows present, no rate, the reason in the note
    writeFileSync(stand, `#!/bin/sh\necho '{"error": "torch sees no CUDA device"}'\nexit 3\n`);
    const failed = await cudaPeerRows('cuda', opts, 5, '', false);
    for (const r of failed.filter((x) => !x.impl.startsWith('@nl'))) {
      expect(r.rate).toBeNull();
      expect(r.note).toMatch(/skipped: torch sees no CUDA device/);
    }
  } finally {
    for (const [k, v] of [
      ['NL_PYTHON', saved.py],
      ['NL_TORCH_MEMORY_PEER', saved.peer],
    ] as const)
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
