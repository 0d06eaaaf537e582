/**
 * `nl-bench --device cuda` (full run only) rows of a 340M-shape Hope (hopePreset('hope-340m'),
 * vocabulary 32000) and transformer++ of the same shape (preset('transformer', '340M')) on our
 * backend: one forward + backward (lossAndBackward, no optimizer step) at B·T tokens, tokens a
 * second and the device's memory (peak since the process started, and in use during the step
 * above what was in use before). The quick and emulated runs print the rows with a note instead
 * (too big for the host emulator). NL_BENCH_340M="B,T" overrides the batch shape. Building hope-340m
 * and one B1 T64 lossAndBackward on the CPU of a 23 GB dev machine was killed at 17 GB (host OOM; not
 * profiled), so the GPU run starts at B1 T1024 and halves T while a step fails.
 */
import * as T from '@nl/tensor';
import { buildModel, HopeLM, hopePreset, preset } from '@nl/hope';
import { measure, type Row } from '../harness.js';

const GiB = 2 ** 30;

/** The full run's first try (not yet measured on a GPU; a failed step retries at half the T). */
export const HOPE_340M_SHAPE = { batch: 1, seq: 1024 };

/** The batch shape: $NL_BENCH_340M ("B,T") or `fallback`. */
export function shape340m(fallback: { batch: number; seq: number }): { batch: number; seq: number } {
  const env = process.env.NL_BENCH_340M;
  if (!env) return fallback;
  const [batch, seq] = env.split(',').map(Number);
  if (!Number.isInteger(batch) || !Number.isInteger(seq) || batch! < 1 || seq! < 1)
    throw new RangeError(`NL_BENCH_340M must be "B,T" (positive integers), got ${JSON.stringify(env)}`);
  return { batch: batch!, seq: seq! };
}

interface Model {
  lossAndBackward(ids: T.Tensor): number;
  parameters(): T.Tensor[];
  to(device: T.Device): unknown;
  dispose?(): void;
}

/** One fwd+bwd row of `make()` on `device`; a failure (e.g. out of memory) becomes the row's note. */
async function stepRow(
  device: T.Device,
  name: string,
  impl: string,
  make: () => Model,
  b: number,
  t: number,
  timeMs: number,
): Promise<Row> {
  const row: Row = {
    suite: 'cuda',
    case: name,
    impl,
    rate: null,
    unit: 'tok/s',
    medianMs: null,
    ratio: null,
  };
  let model: Model | null = null;
  let ids: T.Tensor | null = null;
  try {
    const before = T.cudaDeviceInfo(device).memory.inUse;
    model = make();
    model.to(device);
    const params = model.parameters().reduce((s, p) => s + p.numel, 0);
    ids = T.randint(0, 32000, [b, t + 1], { device });
    let during = 0;
    const m = await measure(
      () => {
        model!.lossAndBackward(ids!);
        T.synchronize(device);
        during = Math.max(during, T.cudaDeviceInfo(device).memory.inUse);
        for (const p of model!.parameters()) {
          p.grad?.dispose();
          p.grad = null;
        }
      },
      { timeMs, iterations: 2 },
    );
    const mem = T.cudaDeviceInfo(device).memory;
    row.rate = (b * t) / (m.medianMs / 1e3);
    row.ratio = 1;
    row.medianMs = m.medianMs;
    row.note = `${(params / 1e6).toFixed(0)}M params; memory: process peak ${(mem.peak / GiB).toFixed(2)} GiB, in use after backward ${((during - before) / GiB).toFixed(2)} GiB above before, device total ${(mem.total / GiB).toFixed(0)} GiB`;
  } catch (e) {
    row.note = `failed: ${(e as Error).message.slice(0, 200)}`;
  } finally {
    ids?.dispose();
    model?.dispose?.();
  }
  return row;
}

/** hope-340m and transformer++ 340M fwd+bwd rows; `o` null: the rows with a skip note. A hope step
 * that fails (e.g. out of memory) is retried at half the T, down to T128; transformer++ then runs
 * at the shape Hope ran at, and the notes name the shapes that failed. */
export async function cudaHope340mRows(
  device: T.Device,
  o: { batch: number; seq: number } | null,
  timeMs: number,
  where: string,
): Promise<Row[]> {
  const impl = `@nl cuda kernels${where}`;
  const makeHope = () => new HopeLM(hopePreset('hope-340m', { seed: 1 })) as unknown as Model;
  const makeTpp = () => buildModel(preset('transformer', '340M', { seed: 1 })) as unknown as Model;
  if (!o) {
    const note = 'skipped: full run on a GPU only (too big for the quick / emulated run)';
    return ['hope-340m fwd+bwd', 'transformer++ 340M fwd+bwd'].map((c) => ({ suite: 'cuda', case: c, impl, rate: null, unit: 'tok/s', medianMs: null, ratio: null, note })); // prettier-ignore
  }
  const { batch: b, seq } = shape340m(o);
  let t = seq;
  const failed: string[] = [];
  let hope = await stepRow(device, `hope-340m fwd+bwd B${b} T${t}`, impl, makeHope, b, t, timeMs);
  while (hope.rate === null && t > 128) {
    failed.push(`B${b} T${t} ${hope.note}`);
    t /= 2;
    hope = await stepRow(device, `hope-340m fwd+bwd B${b} T${t}`, impl, makeHope, b, t, timeMs);
  }
  if (failed.length) hope.note = `${hope.note}; earlier tries: ${failed.join('; ')}`;
  const tpp = await stepRow(device, `transformer++ 340M fwd+bwd B${b} T${t}`, impl, makeTpp, b, t, timeMs);
  if (hope.rate && tpp.rate) {
    tpp.ratio = hope.rate / tpp.rate;
    tpp.note = `${tpp.note}; ratio = hope-340m / transformer++`;
  }
  return [hope, tpp];
}
