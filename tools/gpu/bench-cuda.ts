/**
 * The CUDA bench on the GPU machine (bundled by tools/gpu/bundle.mjs into .gpu/bench-cuda.mjs):
 * the same suite as `pnpm bench --device cuda` (GEMM, AdamW, transformer-tiny, the fused memory ops,
 * selfModifyingTitans and hope-tiny), results to $OUT/bench-cuda.json and a table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cudaDeviceInfo } from '@nl/tensor';
import { cudaSuite } from '../../apps/bench/src/suites/cuda.js';
import { formatTable } from '../../apps/bench/src/table.js';
import type { Row } from '../../apps/bench/src/harness.js';
import { cudaPeerShapes } from '../../apps/bench/src/suites/cuda-peers.js';
import { HOPE_340M_SHAPE } from '../../apps/bench/src/suites/cuda-hope340m.js';

const out = process.env.OUT || '.gpu/out';
const quick = process.argv.includes('--quick');
const dev = cudaDeviceInfo('cuda');
console.log(`bench-cuda on ${dev.name} (emulated: ${dev.emulated}), GEMM: ${dev.gemm}`);
const save = (rows: Row[], cut: boolean) => {
  const table = formatTable(rows, 'ratio');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'bench-cuda.json'), JSON.stringify({ device: dev, cut, rows }, null, 2));
  writeFileSync(
    join(out, 'bench-cuda.txt'),
    cut ? `${table}\n(cut by the step's timeout: the rows measured so far)\n` : table,
  );
  return table;
};
// remote.sh's `timeout` sends SIGTERM: keep the rows measured so far (the suite awaits between
// sections, so the handler runs at the next section boundary at the latest)
const measured: Row[] = [];
process.on('SIGTERM', () => {
  console.log(save(measured, true));
  console.log(`bench-cuda: cut by SIGTERM after ${measured.length} rows`);
  process.exit(124);
});
const rows = await cudaSuite({
  rows: measured,
  device: 'cuda',
  gemmSizes: quick ? [256] : [1024, 2048, 4096],
  adamParams: quick
    ? [[256, 256]]
    : [
        [4096, 1024],
        [1024, 4096],
        [1024, 1024],
        [1024, 1024],
      ],
  train: quick ? { batch: 2, seq: 16 } : { batch: 8, seq: 128 },
  decodeTokens: quick ? 4 : 128,
  timeMs: quick ? 50 : 500,
  // the fused memory ops (gated delta rule, Titans linear / MLP) and the hope rows
  // (selfModifyingTitans fwd+bwd, hope-tiny train step), as `pnpm bench --device cuda`
  memory: quick
    ? { batch: 1, seq: 16, heads: 2, dim: 16, hidden: 16, chunkSize: 8 }
    : { batch: 4, seq: 512, heads: 8, dim: 64, hidden: 64, chunkSize: 64 },
  hope: quick ? { batch: 1, seq: 8 } : { batch: 8, seq: 256 },
  // the memory ops beside torch peers (peers/torch_memory_cuda.py) and hope-340m / transformer++ 340M
  peers: cudaPeerShapes(quick),
  hope340m: quick ? null : HOPE_340M_SHAPE,
});
console.log(save(rows, false));
