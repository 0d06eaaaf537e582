/**
 * Suite `tensor`: @nl/tensor on the CPU.
 *   - bandwidth: elementwise (add, mul, exp) and reductions (sum all, sum last dim, sum dim 0) in
 *     GB/s (bytes read + written), ratio to a plain copy kernel (TypedArray.set) in the same run;
 *   - overhead: µs per op on tiny tensors (JS -> kernel -> new Tensor), next to a raw native call
 *     (`axpy` on 4 floats) for the JS->native floor;
 *   - training: a 2-layer MLP step (forward, backward, SGD through ParamLike views) in steps/s,
 *     with memory().numTensors before and after 1000 steps (must be equal: no leak);
 *   - reading results: matmul with and without dataSync() of its result (suites/tensor-read.ts).
 */
import { native } from '@nl/native';
import * as T from '@nl/tensor';
import { measure, type Row } from '../harness.js';
import { readRows } from './tensor-read.js';

export interface TensorSuiteOptions {
  /** Elements of the bandwidth-test tensors. */
  n: number;
  timeMs: number;
  mlp: { batch: number; inDim: number; hidden: number; out: number };
  /** Steps of the leak check. */
  leakSteps: number;
}

const GB = 1e9;

export async function tensorSuite(opts: TensorSuiteOptions): Promise<Row[]> {
  const rows: Row[] = [];
  const { n, timeMs } = opts;
  T.manualSeed(0);
  const a = T.rand([n]);
  const b = T.rand([n]);
  const rowsN = 1024;
  const m2 = a.reshape([rowsN, n / rowsN]);
  const row = b.narrow(0, 0, n / rowsN);

  // reference: a plain copy kernel (memcpy through TypedArray.set), read n*4 + write n*4
  const src = new Float32Array(n).fill(1);
  const dst = new Float32Array(n);
  const copy = await measure(() => dst.set(src), { timeMs });
  const copyRate = (2 * n * 4) / (copy.medianMs / 1e3) / GB;
  rows.push({
    suite: 'tensor',
    case: `copy n=${n}`,
    impl: 'TypedArray.set',
    rate: copyRate,
    unit: 'GB/s',
    medianMs: copy.medianMs,
    ratio: 1,
  });
  // a fresh output each time is part of what ops pay: copy into a new array for comparison
  const copyNew = await measure(() => src.slice(), { timeMs });
  const copyNewRate = (2 * n * 4) / (copyNew.medianMs / 1e3) / GB;
  rows.push({
    suite: 'tensor',
    case: `copy n=${n}`,
    impl: 'TypedArray.slice (alloc)',
    rate: copyNewRate,
    unit: 'GB/s',
    medianMs: copyNew.medianMs,
    ratio: copyNewRate / copyRate,
  });

  const bw: [string, () => T.Tensor, number][] = [
    ['add', () => a.add(b), 3],
    ['mul', () => a.mul(b), 3],
    ['add (broadcast row)', () => m2.add(row), 2],
    ['exp', () => a.exp(), 2],
    ['sum (all)', () => a.sum(), 1],
    ['sum (last dim)', () => m2.sum(-1), 1],
    ['sum (dim 0)', () => m2.sum(0), 1],
    ['max (last dim)', () => m2.max(-1), 1],
    ['softmax (last dim)', () => m2.softmax(-1), 2],
  ];
  for (const [name, fn, passes] of bw) {
    const r = await measure(() => fn().dispose(), { timeMs });
    const rate = (passes * n * 4) / (r.medianMs / 1e3) / GB;
    rows.push({
      suite: 'tensor',
      case: `${name} n=${n} f32`,
      impl: '@nl/tensor',
      rate,
      unit: 'GB/s',
      medianMs: r.medianMs,
      ratio: rate / copyRate,
    });
  }

  // per-op overhead on tiny tensors
  const x = T.rand([4]);
  const y = T.rand([4]);
  const w = T.rand([4, 4]);
  const wg = T.rand([4]);
  wg.requiresGrad = true;
  const xs = new Float32Array(4);
  const ys = new Float32Array(4);
  const reps = 1000;
  const floor = await measure(
    () => {
      for (let i = 0; i < reps; i++) native.axpy(1, xs, ys);
    },
    { timeMs },
  );
  const floorUs = (floor.medianMs * 1e3) / reps;
  rows.push({
    suite: 'tensor',
    case: 'tiny op overhead',
    impl: 'native.axpy(4 floats), raw',
    rate: floorUs,
    unit: 'µs/op',
    medianMs: floor.medianMs,
    ratio: 1,
    note: 'lower is better',
  });
  const tiny: [string, () => T.Tensor][] = [
    ['add [4]', () => x.add(y)],
    ['exp [4]', () => x.exp()],
    ['sum [4]', () => x.sum()],
    ['matmul [4,4]@[4]', () => w.matmul(x)],
    ['add [4] recorded (requiresGrad)', () => wg.add(y)],
  ];
  for (const [name, fn] of tiny) {
    const r = await measure(
      () => {
        for (let i = 0; i < reps; i++) fn().dispose();
      },
      { timeMs },
    );
    const us = (r.medianMs * 1e3) / reps;
    rows.push({
      suite: 'tensor',
      case: 'tiny op overhead',
      impl: name,
      rate: us,
      unit: 'µs/op',
      medianMs: r.medianMs,
      ratio: us / floorUs,
      note: 'lower is better',
    });
  }

  // 2-layer MLP training step
  const { batch, inDim, hidden, out } = opts.mlp;
  const w1 = T.tidy(() => T.randn([inDim, hidden]).mul(1 / Math.sqrt(inDim)));
  const b1 = T.zeros([hidden]);
  const w2 = T.tidy(() => T.randn([hidden, out]).mul(1 / Math.sqrt(hidden)));
  const params = [w1, b1, w2];
  for (const p of params) p.requiresGrad = true;
  const input = T.randn([batch, inDim]);
  const target = T.randint(0, out, [batch]);
  const onehot = T.tidy(() => T.zeros([batch, out]).scatterAdd(1, target.unsqueeze(1), T.ones([batch, 1])));
  const step = (): number =>
    T.tidy(() => {
      const h = input.matmul(w1).add(b1).relu();
      const logp = h.matmul(w2).logSoftmax(-1);
      const loss = logp.mul(onehot).sum().div(-batch);
      loss.backward();
      for (const p of params) {
        const v = p.view;
        const g = p.gradView!;
        for (let i = 0; i < v.length; i++) v[i] -= 0.05 * g[i];
        g.fill(0);
      }
      return loss.item();
    });
  const first = step();
  const before = T.memory().numTensors;
  let last = first;
  const t0 = performance.now();
  for (let i = 0; i < opts.leakSteps; i++) last = step();
  const ms = (performance.now() - t0) / opts.leakSteps;
  const after = T.memory().numTensors;
  rows.push({
    suite: 'tensor',
    case: `MLP step ${batch}x${inDim}->${hidden}->${out}`,
    impl: '@nl/tensor fwd+bwd+SGD',
    rate: 1000 / ms,
    unit: 'steps/s',
    medianMs: ms,
    ratio: null,
    note: `numTensors ${before} -> ${after} over ${opts.leakSteps} steps; loss ${first.toFixed(3)} -> ${last.toFixed(3)}`,
  });
  for (const t of [a, b, m2, row, x, y, w, wg, ...params, input, target, onehot]) t.dispose();
  rows.push(...(await readRows(opts.n >= 1 << 23 ? 1024 : 256, timeMs)));
  return rows;
}
