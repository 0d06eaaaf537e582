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
import * as T from '@nl/tensor';
import { enableCudaEmulation } from '@nl/tensor/testing';
import { fusedGatedDelta, fusedTitansMlp } from '@nl/memory';
import type { Row } from '../src/harness.js';
import { PEERS_DIR } from '../src/peers.js';
import { cudaPeerRows } from '../src/suites/cuda-peers.js';
import { relRms } from '../src/suites/memory-torch.js';

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

/** Seeded uniform values in [lo, hi). */
function uniform(n: number, seed: number, lo: number, hi: number): Float32Array {
  let s = seed >>> 0;
  return new Float32Array(n).map(() => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 4294967296;
  });
}

it.skipIf(!py)(
  'the torch peers do the same work as our fused kernels (o and every input gradient)',
  () => {
    const [B, L, H, D, Dh, C] = [1, 12, 2, 4, 3, 4];
    const row = [B, L, H, D],
      gate = [B, L, H];
    const specs = {
      delta: [[row, -0.5, 0.5], [row, -0.5, 0.5], [row, -0.5, 0.5], [gate, 0.9, 1], [gate, 0, 1], [[B, H, D, D], -0.5, 0.5]], // prettier-ignore
      titans: [[row, -0.5, 0.5], [row, -0.5, 0.5], [row, -0.5, 0.5], [gate, 0, 0.1], [gate, 0.5, 0.9], [gate, 0, 0.05], [[B, H, D, Dh], -0.5, 0.5], [[B, H, Dh, D], -0.5, 0.5], [[B, H, D, Dh], -0.01, 0.01], [[B, H, Dh, D], -0.01, 0.01]], // prettier-ignore
    } as const;
    for (const kind of ['delta', 'titans'] as const) {
      const arrays = specs[kind].map(([shape, lo, hi], i) => ({
        shape: [...shape],
        flat: uniform(
          shape.reduce((a, b) => a * b, 1),
          31 + i,
          lo,
          hi,
        ),
      }));
      const dO = uniform(B * L * H * D, 99, -0.5, 0.5);
      const ins = arrays.map((a) => T.tensor(a.flat, { shape: a.shape, requiresGrad: true }));
      const outs =
        kind === 'delta'
          ? fusedGatedDelta(ins[0]!, ins[1]!, ins[2]!, ins[3]!, ins[4]!, ins[5]!, {
              chunkSize: C,
              erase: true,
            })
          : fusedTitansMlp(ins, { chunkSize: C, readAfterWrite: true, hidden: Dh });
      outs[0]!
        .mul(T.tensor(dO, { shape: row }))
        .sum()
        .backward();
      const spec = { kind, chunk: C, inputs: arrays.map((a) => [a.shape, [...a.flat]]), dO: [...dO] };
      const r = spawnSync(py!, [script, '--agree'], {
        input: JSON.stringify(spec),
        encoding: 'utf8',
        timeout: 60_000,
      });
      const torch = JSON.parse(r.stdout.trim().split('\n').pop()!) as { o: number[]; grads: number[][] };
      expect(relRms(outs[0]!.dataSync(), torch.o), `${kind} o`).toBeLessThan(1e-5);
      ins.forEach((x, i) =>
        expect(relRms(x.grad!.dataSync(), torch.grads[i]!), `${kind} d${i}`).toBeLessThan(1e-4),
      );
    }
  },
  60_000,
);
