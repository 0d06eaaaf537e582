// `nl-bench --device cuda`: the suite runs end to end on the emulated device (NL_CUDA_EMULATE=1:
// rates measure the host emulator and rows say so), writes its JSON, and without any CUDA device
// the command exits 1 naming the missing device. Timings are not asserted (benchmarks, not tests).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { cudaSuite } from '../src/suites/cuda.js';
import { enableCudaEmulation } from '@nl/tensor/testing';
import { hasCudaGpu } from '@nl/tensor/internal';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'nl-bench-cuda-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

it.skipIf(hasCudaGpu())('without a CUDA device, --device cuda exits 1 naming the missing device', () => {
  const env = { ...process.env };
  delete env.NL_CUDA_EMULATE;
  const r = spawnSync(process.execPath, [cli, '--device', 'cuda', '--quick', '--out', out], {
    env,
    encoding: 'utf8',
  });
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/^nl-bench: no CUDA device for --device cuda: CUDA backend not available: .+/m);
  const bad = spawnSync(process.execPath, [cli, '--device', 'tpu'], { env, encoding: 'utf8' });
  expect(bad.status).toBe(2);
});

it('the suite runs on the emulated device: every row present, labelled, ratios against peers absent', async () => {
  enableCudaEmulation();
  const rows = await cudaSuite({
    device: 'cuda',
    gemmSizes: [32],
    adamParams: [[16, 8]],
    train: { batch: 1, seq: 8 },
    decodeTokens: 2,
    timeMs: 5,
    memory: { batch: 1, seq: 6, heads: 2, dim: 4, hidden: 3, chunkSize: 4 },
    hope: { batch: 1, seq: 4 },
    peers: {
      delta: [{ batch: 1, seq: 8, heads: 2, dim: 4, chunk: 4 }],
      naiveSeq: 4,
      titans: { batch: 1, seq: 8, heads: 2, dim: 4, hidden: 3, chunk: 4 },
    },
    hope340m: { batch: 1, seq: 8 }, // the emulated device skips it regardless
  });
  const cases = [...new Set(rows.map((r) => r.case))];
  expect(cases).toEqual([
    'gemm fp32 32²',
    'gemm tf32 32²',
    'gemm bf16 32²',
    'AdamW step 0.0M params',
    'transformer-tiny train step B1 T8',
    'transformer-tiny decode batch 1',
    'gatedDeltaRule fwd+bwd B1 T6 H2 D4 C4',
    'titansLinear fwd+bwd B1 T6 H2 D4 C4',
    'titansMlp fwd+bwd B1 T6 H2 D4 Dh3 C4',
    'selfModifyingTitans fwd+bwd B1 T4 H4 D32 Dh16',
    'selfModifyingTitans fwd+bwd B1 T4 H4 D32 Dh16 (token form)',
    'hope-tiny train step B1 T4',
    'gatedDeltaRule vs torch fwd+bwd B1 T8 H2 D4 C4',
    'titansMlp vs torch fwd+bwd B1 T8 H2 D4 Dh3 C4',
    'hope-340m fwd+bwd',
    'transformer++ 340M fwd+bwd',
  ]);
  // beside ours: torch chunked and token-by-token delta rules, torch Titans ops (skipped: emulated)
  const peerImpls = rows.filter((r) => r.case.includes('vs torch')).map((r) => r.impl.split(' (')[0]);
  expect(peerImpls).toEqual([
    '@nl cuda kernels [EMULATED: host emulator, not a GPU]',
    'torch chunked WY/UT',
    'torch ops token by token',
    '@nl cuda kernels [EMULATED: host emulator, not a GPU]',
    'torch ops, chunk-parallel',
  ]);
  // the 340M rows are present but not run on the emulator, with the reason
  for (const r of rows.filter((x) => x.case.includes('340'))) {
    expect(r.rate).toBeNull();
    expect(r.note).toMatch(/skipped: full run on a GPU only/);
  }
  const cpuRows = rows.filter((x) => x.impl.startsWith('@nl cpu kernels'));
  const ran = (x: (typeof rows)[number]) => !x.case.includes('340');
  for (const r of rows.filter((x) => x.impl.startsWith('@nl') && !cpuRows.includes(x) && ran(x))) {
    expect(r.impl).toMatch(/EMULATED/);
    expect(r.rate).toBeGreaterThan(0);
  }
  for (const r of rows.filter((x) => !x.impl.startsWith('@nl')))
    expect(r.note).toMatch(/no peer on the emulated device/);
  // the memory ops' and Hope rows beside them: the same work on the cpu kernels
  expect(cpuRows).toHaveLength(6);
  for (const r of cpuRows) expect(r.rate).toBeGreaterThan(0);
});

it('the CLI writes the JSON report (emulated, --quick)', () => {
  const r = spawnSync(process.execPath, [cli, '--device', 'cuda', '--quick', '--out', out], {
    env: { ...process.env, NL_CUDA_EMULATE: '1' },
    encoding: 'utf8',
  });
  expect(r.status).toBe(0);
  const file = readdirSync(out).find((f) => f.startsWith('bench-cuda-'));
  const report = JSON.parse(readFileSync(join(out, file!), 'utf8'));
  expect(report.device.emulated).toBe(true);
  expect(report.rows.length).toBeGreaterThan(10);
}, 60_000);
