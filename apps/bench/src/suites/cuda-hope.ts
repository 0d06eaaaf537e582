/**
 * `nl-bench --device cuda` rows for Hope: the fused SelfModifyingTitans op (memory.selfModifyingTitans,
 * hope-tiny's memory shape H4 D32 Dh16, chunks 32 / 16) forward + backward of one call (loss = sum
 * of o) in its default chunk ("dual") form and in token form (`dual: false`), and a hope-tiny
 * train step (lossAndBackward + AdamW), each on `device` beside the same work on the 'cpu' native
 * kernels in the same run. Rates are tokens (B·T) a second; every timed call on
 * the device ends with a synchronize. On the emulated device the CUDA rates measure the host
 * emulator (rows say so).
 */
import * as T from '@nl/tensor';
import { AdamW } from '@nl/optim';
import { HopeLM, hopePreset } from '@nl/hope';
import { SelfModifyingTitans } from '@nl/memory';
import { measure, type Row } from '../harness.js';

const H = 4,
  D = 32,
  DH = 16;

/** Seeded fused SelfModifyingTitans (token form with dual false) on `device`; x, q [batch, seq, H, D]. */
function selfMod(device: T.Device, batch: number, seq: number, dual = true) {
  T.manualSeed(5);
  const m = new SelfModifyingTitans({
    heads: H,
    dim: D,
    hidden: DH,
    chunkMem: 32,
    chunkOther: 16,
    impl: 'fused',
    dual,
  });
  m.to(device);
  const x = T.randn([batch, seq, H, D], { device, requiresGrad: true });
  const q = T.randn([batch, seq, H, D], { device, requiresGrad: true });
  return {
    dispose: () => [x, q].forEach((t) => t.dispose()),
    step: () => {
      m.reset();
      m.forward(x, q).sum().backward();
      for (const t of [x, q, ...m.parameters()]) {
        t.grad?.dispose();
        t.grad = null;
      }
    },
  };
}

/** hope-tiny (vocabulary 256) on `device` with AdamW: one train step on fixed ids. */
function hopeTiny(device: T.Device, batch: number, seq: number) {
  const model = new HopeLM(hopePreset('hope-tiny', { seed: 1 }));
  if (device !== 'cpu') model.to(device);
  const ids = T.randint(0, 256, [batch, seq + 1], { device });
  const opt = new AdamW(model.parameters(), { lr: 1e-3 });
  return {
    dispose: () => {
      ids.dispose();
      opt.dispose?.();
      model.dispose?.();
    },
    step: () => {
      model.lossAndBackward(ids);
      opt.step();
      opt.zeroGrad();
    },
  };
}

/** The rows: per case, ours on `device` and on 'cpu' (ratio = device / cpu speed). */
export async function cudaHopeRows(
  device: T.Device,
  o: { batch: number; seq: number },
  timeMs: number,
  where: string,
): Promise<Row[]> {
  const rows: Row[] = [];
  const tokens = o.batch * o.seq;
  const cases = [
    [`selfModifyingTitans fwd+bwd B${o.batch} T${o.seq} H${H} D${D} Dh${DH}`, selfMod],
    [
      `selfModifyingTitans fwd+bwd B${o.batch} T${o.seq} H${H} D${D} Dh${DH} (token form)`,
      (d: T.Device, b: number, s: number) => selfMod(d, b, s, false),
    ],
    [`hope-tiny train step B${o.batch} T${o.seq}`, hopeTiny],
  ] as const;
  for (const [name, make] of cases) {
    const dev = make(device, o.batch, o.seq);
    const cpu = make('cpu', o.batch, o.seq);
    const m = await measure(
      () => {
        dev.step();
        T.synchronize(device);
      },
      { timeMs, iterations: 2 },
    );
    const c = await measure(cpu.step, { timeMs, iterations: 2 });
    const ours = tokens / (m.medianMs / 1e3);
    const theirs = tokens / (c.medianMs / 1e3);
    rows.push({ suite: 'cuda', case: name, impl: `@nl cuda kernels${where}`, rate: ours, unit: 'tok/s', medianMs: m.medianMs, ratio: 1 }); // prettier-ignore
    rows.push({ suite: 'cuda', case: name, impl: '@nl cpu kernels (same work, threaded)', rate: theirs, unit: 'tok/s', medianMs: c.medianMs, ratio: ours / theirs, note: 'ratio = cuda / cpu' }); // prettier-ignore
    dev.dispose();
    cpu.dispose();
  }
  return rows;
}
