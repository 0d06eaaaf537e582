/**
 * Rows of the `tensor` suite about reading results to the host: a 1024² f32 matmul alone, the
 * same matmul followed by `dataSync()` of its 4 MB result, and `dataSync()` alone next to a plain
 * copy into an existing array (the memcpy floor). Ratios are to the matmul alone (GFLOP/s rows)
 * and to the copy floor (GB/s rows).
 */
import * as T from '@nl/tensor';
import { measure, type Row } from '../harness.js';

export async function readRows(size: number, timeMs: number): Promise<Row[]> {
  T.manualSeed(1);
  const a = T.randn([size, size]);
  const b = T.randn([size, size]);
  const flops = 2 * size ** 3;
  const mm = await measure(() => a.matmul(b).dispose(), { timeMs });
  const mmRead = await measure(
    () => {
      const c = a.matmul(b);
      c.dataSync();
      c.dispose();
    },
    { timeMs },
  );
  const c = a.matmul(b);
  const bytes = c.numel * 4;
  const floorDst = new Float32Array(c.numel);
  const floor = await measure(() => floorDst.set(c.rawView()), { timeMs });
  const read = await measure(() => c.dataSync(), { timeMs });
  for (const t of [a, b, c]) t.dispose();
  const gflops = (ms: number) => flops / (ms / 1e3) / 1e9;
  const gbs = (ms: number) => (2 * bytes) / (ms / 1e3) / 1e9;
  const base = { suite: 'tensor', case: `read ${size}x${size} f32` };
  return [
    { ...base, impl: 'matmul', rate: gflops(mm.medianMs), unit: 'GFLOP/s', medianMs: mm.medianMs, ratio: 1 },
    {
      ...base,
      impl: 'matmul + dataSync()',
      rate: gflops(mmRead.medianMs),
      unit: 'GFLOP/s',
      medianMs: mmRead.medianMs,
      ratio: mm.medianMs / mmRead.medianMs,
    },
    {
      ...base,
      impl: 'copy into an existing array',
      rate: gbs(floor.medianMs),
      unit: 'GB/s',
      medianMs: floor.medianMs,
      ratio: 1,
    },
    {
      ...base,
      impl: 'dataSync() (fresh array)',
      rate: gbs(read.medianMs),
      unit: 'GB/s',
      medianMs: read.medianMs,
      ratio: floor.medianMs / read.medianMs,
    },
  ];
}
