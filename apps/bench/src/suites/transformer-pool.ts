/**
 * Rows of suite `transformer`: what the buffer pool's limit (@nl/tensor `setPoolLimit`) buys on a
 * step whose activations outgrow the old 256 MiB cap — transformer-tiny at d 64 training at B×T
 * (B 8, T 512: each layer's attention keeps ~4 score tensors of B·H·T² floats, ~33 MB each, for
 * the backward). The same model and batch are timed with the pool capped at 256 MiB (the limit
 * before 2026-12-07) and at the current limit, in the same run; ratio = this row / the 256 MiB row.
 * Where first touches of fresh pages are slow (VMs that back memory lazily), every buffer the pool
 * cannot keep is paid again at each step.
 */
import * as T from '@nl/tensor';
import { AdamW } from '@nl/optim';
import { buildModel, preset } from '@nl/hope';
import { measure, type Row } from '../harness.js';

export interface PoolRowsOptions {
  batch: number;
  seq: number;
  timeMs: number;
}

/** The pool limit the rows compare against: @nl/tensor's cap before it became configurable. */
export const OLD_POOL_LIMIT_BYTES = 256 * 2 ** 20;

export async function poolLimitRows(o: PoolRowsOptions): Promise<Row[]> {
  const model = buildModel(preset('transformer', 'tiny', { seed: 0, dim: 64 }));
  const ids = T.randint(0, 256, [o.batch, o.seq + 1]);
  const opt = new AdamW(model.parameters(), { lr: 1e-3 });
  const step = () => {
    model.lossAndBackward(ids);
    opt.step();
    opt.zeroGrad();
  };
  const current = T.poolLimit();
  const timeAt = async (limit: number) => {
    T.setPoolLimit(limit);
    T.clearPool();
    const m = await measure(step, { timeMs: o.timeMs, iterations: 3 });
    return { ms: m.medianMs, held: T.poolStats().pooledBytes };
  };
  let old: { ms: number; held: number };
  let now: { ms: number; held: number };
  try {
    old = await timeAt(OLD_POOL_LIMIT_BYTES);
    now = await timeAt(current);
  } finally {
    T.setPoolLimit(current);
    ids.dispose();
    opt.dispose?.();
    model.dispose?.();
  }
  const tokens = o.batch * o.seq;
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const c = `transformer d 64 train step B${o.batch} T${o.seq} (AdamW), buffer pool limit`;
  return [
    { suite: 'transformer', case: c, impl: `pool limit ${mib(OLD_POOL_LIMIT_BYTES)} (before)`, rate: tokens / (old.ms / 1e3), unit: 'tok/s', medianMs: old.ms, ratio: 1, note: `pool held ${mib(old.held)} after` }, // prettier-ignore
    { suite: 'transformer', case: c, impl: `pool limit ${mib(current)} (current)`, rate: tokens / (now.ms / 1e3), unit: 'tok/s', medianMs: now.ms, ratio: old.ms / now.ms, note: `pool held ${mib(now.held)} after; ratio: this row / the 256 MiB row` }, // prettier-ignore
  ];
}
