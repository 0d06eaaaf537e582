/**
 * `nl-bench --device cuda` rows for the fused memory ops with CUDA kernels: the gated delta rule
 * (memory.gatedDeltaRule), the Titans linear memory (memory.titansLinear) and the Titans MLP memory
 * (memory.titansMlp), forward + backward of one
 * call (loss = sum of o), each beside the same op on the 'cpu' native kernels (threaded) in the
 * same run. Rates are tokens (B·T) a second; every timed call ends with a device synchronize. On
 * the emulated device the CUDA rates measure the host emulator (rows say so).
 */
import * as T from '@nl/tensor';
import { fusedGatedDelta, fusedTitansLinear, fusedTitansMlp } from '@nl/memory';
import { measure, type Row } from '../harness.js';

/** Shapes of the memory rows: q, k, v [batch, seq, heads, dim]; Titans hidden width `hidden`. */
export interface CudaMemoryBenchOptions {
  batch: number;
  seq: number;
  heads: number;
  dim: number;
  hidden: number;
  chunkSize: number;
}

/** Seeded uniform leaf tensor in [lo, hi) on `device`. */
export function leaf(device: T.Device, shape: number[], seed: number, lo = -0.5, hi = 0.5): T.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = lo + ((hi - lo) * s) / 4294967296;
  }
  return T.tensor(a, { shape, dtype: 'float32', device, requiresGrad: true });
}

/** Inputs of both ops on one device (float32). */
function inputs(device: T.Device, o: CudaMemoryBenchOptions) {
  const { batch: B, seq: L, heads: H, dim: D, hidden: Dh } = o;
  const row = [B, L, H, D],
    gate = [B, L, H];
  const s = 1 / Math.sqrt(D);
  return {
    delta: [leaf(device, row, 1, -s, s), leaf(device, row, 2, -s, s), leaf(device, row, 3), leaf(device, gate, 4, 0.9, 1), leaf(device, gate, 5, 0, 1), leaf(device, [B, H, D, D], 6)], // prettier-ignore
    linear: [leaf(device, row, 17), leaf(device, row, 18, -s, s), leaf(device, row, 19), leaf(device, gate, 20, 0, 0.5), leaf(device, gate, 21, 0.5, 0.9), leaf(device, gate, 22, 0, 0.1), leaf(device, [B, H, D, D], 23), leaf(device, [B, H, D, D], 24, -0.1, 0.1)], // prettier-ignore
    titans: [leaf(device, row, 7), leaf(device, row, 8, -s, s), leaf(device, row, 9), leaf(device, gate, 10, 0, 0.1), leaf(device, gate, 11, 0.5, 0.9), leaf(device, gate, 12, 0, 0.05), leaf(device, [B, H, D, Dh], 13), leaf(device, [B, H, Dh, D], 14), leaf(device, [B, H, D, Dh], 15, -0.01, 0.01), leaf(device, [B, H, Dh, D], 16, -0.01, 0.01)], // prettier-ignore
  };
}

/** One forward + backward of each op (loss = sum of o); outputs and leaves' gradients dropped after. */
function steps(ins: ReturnType<typeof inputs>, o: CudaMemoryBenchOptions) {
  const fwdBwd = (outs: T.Tensor[], leaves: T.Tensor[]) => {
    const loss = outs[0]!.sum();
    loss.backward();
    for (const t of [loss, ...outs]) t.dispose();
    for (const t of leaves) {
      t.grad?.dispose();
      t.grad = null;
    }
  };
  return {
    delta: () => {
      const [q, k, v, a, b, s0] = ins.delta as [T.Tensor, T.Tensor, T.Tensor, T.Tensor, T.Tensor, T.Tensor];
      fwdBwd(fusedGatedDelta(q, k, v, a, b, s0, { chunkSize: o.chunkSize, erase: true }), ins.delta);
    },
    linear: () =>
      fwdBwd(fusedTitansLinear(ins.linear, { chunkSize: o.chunkSize, readAfterWrite: true }), ins.linear),
    titans: () =>
      fwdBwd(
        fusedTitansMlp(ins.titans, { chunkSize: o.chunkSize, readAfterWrite: true, hidden: o.hidden }),
        ins.titans,
      ),
  };
}

/** The rows: per op, ours on `device` and the 'cpu' kernels (ratio = cuda / cpu speed). */
export async function cudaMemoryRows(
  device: T.Device,
  o: CudaMemoryBenchOptions,
  timeMs: number,
  where: string,
): Promise<Row[]> {
  const rows: Row[] = [];
  const tokens = o.batch * o.seq;
  const shape = `B${o.batch} T${o.seq} H${o.heads} D${o.dim}`;
  const cases = {
    delta: `gatedDeltaRule fwd+bwd ${shape} C${o.chunkSize}`,
    linear: `titansLinear fwd+bwd ${shape} C${o.chunkSize}`,
    titans: `titansMlp fwd+bwd ${shape} Dh${o.hidden} C${o.chunkSize}`,
  };
  const onDevice = inputs(device, o);
  const onCpu = inputs('cpu', o);
  const dev = steps(onDevice, o);
  const cpu = steps(onCpu, o);
  for (const op of ['delta', 'linear', 'titans'] as const) {
    const m = await measure(
      () => {
        dev[op]();
        T.synchronize(device);
      },
      { timeMs, iterations: 2 },
    );
    const c = await measure(cpu[op], { timeMs, iterations: 2 });
    const ours = tokens / (m.medianMs / 1e3);
    const theirs = tokens / (c.medianMs / 1e3);
    rows.push({ suite: 'cuda', case: cases[op], impl: `@nl cuda kernels${where}`, rate: ours, unit: 'tok/s', medianMs: m.medianMs, ratio: 1 }); // prettier-ignore
    rows.push({ suite: 'cuda', case: cases[op], impl: '@nl cpu kernels (same op, threaded)', rate: theirs, unit: 'tok/s', medianMs: c.medianMs, ratio: ours / theirs, note: 'ratio = cuda / cpu' }); // prettier-ignore
  }
  for (const ins of [onDevice, onCpu])
    for (const t of [...ins.delta, ...ins.linear, ...ins.titans]) t.dispose();
  return rows;
}
