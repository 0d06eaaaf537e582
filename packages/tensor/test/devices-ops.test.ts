// One test body per op, run on every available device ('cpu', 'sim', CUDA when a backend serves
// it): forward outputs and every input gradient must equal the CPU run. On 'sim' (the CPU kernels
// behind opaque buffers) "equal" means bit for bit, and the op's forward + backward must make no
// host transfer at all. A final check asserts that every kernel the tensor package registers was
// launched on 'sim' by these cases, so a new op cannot skip this suite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { nn } from '../src/index.js';
import { registeredKernels, traceKernels } from '../src/internal.js';
import { assertClose, resetSimTransfers, simTransfers, testDevices } from '../src/testing-entry.js';
import type { Device, Tensor } from '../src/index.js';

type Inputs = Record<string, { data: number[]; shape: number[]; dtype?: T.DType; grad?: boolean }>;
interface OpCase {
  name: string;
  inputs: Inputs;
  run(x: Record<string, Tensor>, device: Device): Tensor | Tensor[];
}

let seed = 1;
function rnd(n: number, lo = -1, hi = 1): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    out.push(lo + ((hi - lo) * seed) / 2147483648);
  }
  return out;
}
const f = (shape: number[], grad = true, dtype: T.DType = 'float64') => ({
  data: rnd(shape.reduce((a, b) => a * b, 1)),
  shape,
  dtype,
  grad,
});
const ints = (data: number[], shape = [data.length]) => ({
  data,
  shape,
  dtype: 'int32' as const,
  grad: false,
});

const CASES: OpCase[] = [
  {
    name: 'add/mul/div broadcast',
    inputs: { a: f([2, 3]), b: f([3]) },
    run: ({ a, b }) => a.add(b).mul(a).div(b.add(3)),
  },
  {
    name: 'sub/pow/max/min',
    inputs: { a: f([4]), b: f([4]) },
    run: ({ a, b }) => a.sub(b).pow(2).maximum(b).minimum(a.add(0.5)),
  },
  {
    name: 'comparisons',
    inputs: { a: f([5], false), b: f([5], false) },
    run: ({ a, b }) => [a.lt(b), a.ge(b), a.eq(a), a.ne(b)],
  },
  {
    name: 'unary chain',
    inputs: { a: f([2, 4]) },
    run: ({ a }) => [
      a.exp(),
      a.tanh(),
      a.sigmoid(),
      a.relu(),
      a.gelu(),
      a.silu(),
      a.abs().add(1).log(),
      a.square().sqrt(),
      a.clamp(-0.3, 0.4),
    ],
  },
  {
    name: 'reductions',
    inputs: { a: f([3, 4]) },
    run: ({ a }) => [
      a.sum(),
      a.mean(1),
      a.max(0),
      a.min(1, true),
      a.logsumexp(1),
      T.variance(a, 0),
      a.prod(1),
    ],
  },
  { name: 'argmax/argmin', inputs: { a: f([3, 4], false) }, run: ({ a }) => [a.argmax(1), a.argmin(0)] },
  {
    name: 'matmul batched + transposed',
    inputs: { a: f([2, 3, 4]), b: f([4, 5]) },
    run: ({ a, b }) => [a.matmul(b), a.transpose(-2, -1).transpose(-2, -1).matmul(b.t().t())],
  },
  { name: 'softmax/logSoftmax', inputs: { a: f([3, 5]) }, run: ({ a }) => [a.softmax(-1), a.logSoftmax(0)] },
  {
    name: 'where + cast',
    inputs: { c: ints([1, 0, 1, 0]), a: f([4]), b: f([1]) },
    run: ({ c, a, b }) => [T.where(c, a, b), a.to('float32')],
  },
  {
    name: 'cat/stack/pad',
    inputs: { a: f([2, 3]), b: f([1, 3]) },
    run: ({ a, b }) => [T.cat([a, b], 0), T.stack([a, a], 1), T.pad(a, [1, 2], 0.5)],
  },
  {
    name: 'slice/narrow/select/split',
    inputs: { a: f([4, 6]) },
    run: ({ a }) => [a.slice(1, 1, 5, 2), a.narrow(0, 1, 2), a.select(1, 3), ...T.split(a, 4, 1)],
  },
  {
    name: 'layout: permute/expand/contiguous/reshape',
    inputs: { a: f([2, 3, 1]) },
    run: ({ a }) => [a.permute([2, 0, 1]).contiguous(), a.expand([2, 3, 4]).reshape([6, 4]), a.flatten()],
  },
  {
    name: 'indexSelect/indexAdd',
    inputs: { a: f([4, 3]), s: f([2, 3]), i: ints([3, 0]) },
    run: ({ a, s, i }) => [T.indexSelect(a, 0, i), T.indexAdd(a, 0, i, s)],
  },
  {
    name: 'gather/scatterAdd',
    inputs: { a: f([3, 4]), s: f([3, 2]), i: ints([0, 3, 1, 1, 2, 0], [3, 2]) },
    run: ({ a, s, i }) => [T.gather(a, 1, i), T.scatterAdd(a, 1, i, s)],
  },
  {
    name: 'scatterAdd, src larger than index',
    inputs: { a: f([3, 4]), s: f([3, 3]), i: ints([0, 3, 1, 1, 2, 0], [3, 2]) },
    run: ({ a, s, i }) => T.scatterAdd(a, 1, i, s),
  },
  {
    name: 'tril/triu/cumsum/cumprod',
    inputs: { a: f([3, 3]) },
    run: ({ a }) => [T.tril(a), T.triu(a, 1), T.cumsum(a, 1), T.cumprod(a, 0)],
  },
  {
    name: 'topk',
    inputs: { a: f([3, 5]) },
    run: ({ a }) => {
      const r = T.topk(a, 2, 1);
      return [r.values, r.indices];
    },
  },
  {
    name: 'multinomial',
    inputs: { w: { data: [0.1, 0.5, 0.4, 1, 0, 3], shape: [2, 3], grad: false } },
    run: ({ w }) => T.multinomial(w, 4, { generator: new T.Generator(7) }),
  },
  {
    name: 'fill_/zero_/copy_ on views',
    inputs: { a: f([3, 4], false), b: f([4], false) },
    run: ({ a, b }) => {
      const c = a.clone();
      T.fill_(c.narrow(1, 0, 2), 2.5);
      T.copy_(c.select(0, 2), b);
      const d = a.clone();
      T.zero_(d.t().narrow(0, 1, 1));
      return [c, d];
    },
  },
  {
    name: 'creation on the device',
    inputs: {},
    run: (_x, device) => [
      T.zeros([2, 3], { device }),
      T.ones([3], { device, dtype: 'int32' }),
      T.full([2], 1.5, { device }),
      T.tensor([[1, 2]], { device }),
      T.arange(5, undefined, 1, { device }),
      T.eye(3, 3, { device }),
      T.randn([4], { device, generator: new T.Generator(3) }),
    ],
  },
  {
    name: 'composite: std/norm/maskedFill/repeat/outer',
    inputs: { a: f([2, 3]), m: ints([1, 0, 0, 1, 0, 1], [2, 3]), v: f([3]) },
    run: ({ a, m, v }) => [
      T.std(a, 1),
      T.norm(a),
      T.maskedFill(a, m, -1),
      T.repeat(v, [2, 1]),
      T.outer(v, v),
    ],
  },
  {
    name: 'crossEntropy',
    inputs: { l: f([4, 5]), t: ints([1, 4, -100, 0]) },
    run: ({ l, t }) => T.crossEntropy(l, t),
  },
  {
    name: 'rmsNorm/layerNorm',
    inputs: { x: f([2, 3, 4]), w: f([4]), b: f([4]) },
    run: ({ x, w, b }) => [T.rmsNorm(x, w), T.layerNorm(x, w, b)],
  },
  {
    name: 'embedding',
    inputs: { w: f([5, 3]), i: ints([4, 0, 4, 2], [2, 2]) },
    run: ({ w, i }) => T.embedding(i, w),
  },
  {
    name: 'causalConv1d',
    inputs: { x: f([2, 5, 3]), w: f([3, 4]), b: f([3]) },
    run: ({ x, w, b }) => T.causalConv1d(x, w, b),
  },
  { name: 'dropout', inputs: { x: f([3, 8]) }, run: ({ x }) => T.dropout(x, { p: 0.3, seed: 11 }) },
  {
    name: 'scaledDotProductAttention causal',
    inputs: { q: f([1, 2, 3, 4]), k: f([1, 2, 5, 4]), v: f([1, 2, 5, 2]) },
    run: ({ q, k, v }) => nn.functional.scaledDotProductAttention(q, k, v, { causal: true }),
  },
  {
    name: 'linear',
    inputs: { x: f([2, 3]), w: f([4, 3]), b: f([4]) },
    run: ({ x, w, b }) => nn.functional.linear(x, w, b),
  },
  {
    name: 'to(cpu) and back is differentiable',
    inputs: { a: f([3]) },
    run: ({ a }) => a.to('cpu').mul(2).to(a.device),
  },
];

function build(inputs: Inputs, device: Device): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) {
    out[k] = T.tensor(v.data, {
      shape: v.shape,
      dtype: v.dtype ?? 'float64',
      device,
      requiresGrad: v.grad ?? false,
    });
  }
  return out;
}

/** Runs a case: outputs, and the gradient of sum(out_i * w_i) w.r.t. every input that needs it. */
function runCase(c: OpCase, device: Device) {
  const x = build(c.inputs, device);
  resetSimTransfers();
  const res = c.run(x, device);
  const outs = Array.isArray(res) ? res : [res];
  const floatOuts = outs.filter((o) => o.requiresGrad);
  if (floatOuts.length > 0) {
    let loss: Tensor | null = null;
    floatOuts.forEach((o, i) => {
      const term = o.mul(T.full(o.shape, 0.5 + i, { dtype: o.dtype, device: o.device })).sum();
      loss = loss === null ? term : loss.add(term.to(loss.device));
    });
    loss!.backward(T.ones([], { dtype: loss!.dtype, device: loss!.device }));
  }
  const transfers = simTransfers();
  const values = outs.map((o) => ({
    dtype: o.dtype,
    device: o.device,
    shape: o.shape,
    data: Array.from(o.dataSync()),
  }));
  const grads = Object.entries(x).map(([k, t]) => [
    k,
    t.grad === null ? null : Array.from(t.grad.dataSync()),
  ]);
  const gradDevices = Object.values(x).map((t) => t.grad?.device ?? null);
  for (const t of [...Object.values(x), ...outs]) t.dispose();
  return { values, grads, transfers, gradDevices };
}

const devices = testDevices();
const launched = new Map<string, Set<string>>([
  ['sim', new Set()],
  ['cuda', new Set()],
]);
beforeAll(() =>
  traceKernels((op, device) => launched.get(device.startsWith('cuda') ? 'cuda' : device)?.add(op)),
);
afterAll(() => traceKernels(null));

describe.each(devices.filter((d) => d !== 'cpu'))('every op on %s equals the CPU', (device) => {
  for (const c of CASES) {
    it(c.name, () => {
      const ref = runCase(c, 'cpu');
      const got = runCase(c, device);
      expect(got.values.map((v) => v.device)).toEqual(got.values.map(() => device));
      expect(got.gradDevices.filter((d) => d !== null)).toEqual(
        got.gradDevices.filter((d) => d !== null).map(() => device),
      );
      if (device === 'sim') {
        expect(got.values).toEqual(ref.values.map((v) => ({ ...v, device })));
        expect(got.grads).toEqual(ref.grads);
        // zeros/ones/full fill on the device; tensor/arange/eye/randn build on the host: one upload each
        const expected =
          c.name === 'creation on the device'
            ? { uploads: 4, uploadBytes: 8 + 20 + 36 + 16 }
            : { uploads: 0, uploadBytes: 0 };
        if (!c.name.startsWith('to(cpu)'))
          expect(got.transfers).toEqual({ ...expected, downloads: 0, downloadBytes: 0 });
      } else {
        ref.values.forEach((v, i) =>
          assertClose(`${c.name} out ${i}`, got.values[i].data, v.data, { rtol: 1e-5, atol: 1e-6 }),
        );
        ref.grads.forEach(
          ([k, g], i) =>
            g &&
            assertClose(`${c.name} grad ${k}`, got.grads[i][1] as number[], g as number[], {
              rtol: 1e-5,
              atol: 1e-6,
            }),
        );
      }
    });
  }
});

describe('kernel coverage on sim and cuda', () => {
  const tensorKernels = () =>
    registeredKernels()
      .filter((k) => k.backends.includes('cpu'))
      .map((k) => k.op)
      .filter((op) => !op.includes('.') || op.startsWith('nn.'))
      .filter((op) => !op.startsWith('test.'));
  it('every kernel @nl/tensor registers was launched on sim by the cases above', () => {
    expect(tensorKernels().filter((op) => !launched.get('sim')!.has(op))).toEqual([]);
  });
  it('every kernel @nl/tensor registers for the CPU has a CUDA kernel, launched on cuda by the cases above', () => {
    const cuda = new Set(
      registeredKernels()
        .filter((k) => k.backends.includes('cuda'))
        .map((k) => k.op),
    );
    expect(tensorKernels().filter((op) => !cuda.has(op))).toEqual([]);
    expect(tensorKernels().filter((op) => !launched.get('cuda')!.has(op))).toEqual([]);
  });
});
