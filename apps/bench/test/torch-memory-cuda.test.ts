// peers/torch_memory_cuda.py (the CUDA memory rows' torch peers): where some python3 imports torch,
// its --self-test must pass on the CPU: the chunked WY gated delta rule and the chunk-parallel Titans
// MLP memory against float64 token-by-token loops (outputs, final states, every input's gradient;
// float32 < 1e-4 and float64 < 1e-10 relative). Skipped without torch (CI without Python). Without a
// GPU the bench mode answers exit 3 with {"error"}, which the rows print as their note.
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { PEERS_DIR } from '../src/peers.js';

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
