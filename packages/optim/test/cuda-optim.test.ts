// The 'cuda' optimizer kernels (src/kernels/cuda*.ts over native/src/cuda/kernels/optim*.h),
// emulated on the host when no GPU serves 'cuda': every optimizer runs the same steps on the same
// parameters and gradients on 'cpu' and on 'cuda', and parameters and state agree (float32 rtol
// 1e-5, float64 rtol 1e-10 — assertClose's defaults — unless a case says otherwise). Shapes cover
// sizes that are not a multiple of the block (300), matrices wider and taller than square
// (Newton–Schulz transposes the tall ones), vectors and 3-D params; some gradients are
// non-contiguous views. Plus clipGradNorm (norm stays a device tensor) and Newton–Schulz alone.
import { describe, expect, it, vi } from 'vitest';
import { memory, tensor, Tensor, zeros, type Device } from '@nl/tensor';
import { native } from '@nl/native';
import { cudaPointer } from '@nl/tensor/internal';
import { assertClose, enableCudaEmulation } from '@nl/tensor/testing';
import {
  Adam,
  AdamW,
  clipGradNorm,
  DeltaMomentum,
  DMGD,
  M3,
  Muon,
  newtonSchulzTensor,
  PreconditionedMomentum,
  rmsPreconditioner,
  SGD,
  type Optimizer,
  type ParamLike,
  type Preconditioner,
} from '../src/index.js';
import { rng } from './helpers.js';

enableCudaEmulation();

type FloatDType = 'float32' | 'float64';
const SHAPES = [[4, 6], [4, 6], [6], [3, 2, 2], [9, 5], [300], [5, 11]];
/** indices of the parameters whose gradients arrive as transposed (non-contiguous) views */
const STRIDED = new Set([0, 4]);
const STEPS = 4;
const ctor = (d: FloatDType) => (d === 'float32' ? Float32Array : Float64Array);

function fill(r: () => number, n: number, dtype: FloatDType) {
  const a = new (ctor(dtype))(n);
  for (let i = 0; i < n; i++) a[i] = r();
  return a;
}

function makeParams(device: Device, dtype: FloatDType): Tensor[] {
  const r = rng(7);
  return SHAPES.map((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const t = tensor(fill(r, n, dtype), { shape, device });
    t.requiresGrad = true;
    return t;
  });
}

/** Step `s`'s gradients (the same numbers on every device); a transposed view where STRIDED says. */
function setGrads(params: Tensor[], s: number, dtype: FloatDType, strided = true): void {
  const r = rng(100 + s);
  params.forEach((p, i) => {
    const data = fill(r, p.numel, dtype);
    if (strided && STRIDED.has(i) && p.ndim === 2) {
      const [a, b] = p.shape as [number, number];
      p.grad = tensor(data, { shape: [b, a], device: p.device }).transpose(0, 1);
    } else p.grad = tensor(data, { shape: p.shape, device: p.device });
  });
}

interface Case {
  name: string;
  make: (p: ParamLike[]) => Optimizer<object>;
  rtol32?: number;
  rtol64?: number;
}

/** A host preconditioner with state (runs on the host between a download and an upload on cuda). */
const tanhCounting: Preconditioner = (g, { state }) => {
  state.calls = ((state.calls as number | undefined) ?? 0) + 1;
  return g.map((x) => Math.tanh(x)) as typeof g;
};

const CASES: Case[] = [
  { name: 'SGD plain', make: (p) => new SGD(p, { lr: 0.1 }) },
  { name: 'SGD momentum dampening wd', make: (p) => new SGD(p, { lr: 0.05, momentum: 0.8, dampening: 0.3, weightDecay: 0.01 }) }, // prettier-ignore
  { name: 'SGD nesterov maximize', make: (p) => new SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, maximize: true }) }, // prettier-ignore
  {
    name: 'Adam amsgrad coupled wd',
    make: (p) => new Adam(p, { lr: 0.05, weightDecay: 0.01, amsgrad: true }),
  },
  { name: 'Adam fused maximize', make: (p) => new Adam(p, { lr: 0.05, fused: true, maximize: true }) },
  { name: 'AdamW', make: (p) => new AdamW(p, { lr: 0.05, weightDecay: 0.1 }) },
  { name: 'AdamW fused amsgrad', make: (p) => new AdamW(p, { lr: 0.05, fused: true, amsgrad: true }) },
  { name: 'Muon', make: (p) => new Muon(p, { lr: 0.02, adamLr: 0.05, weightDecay: 0.01 }) },
  { name: 'Muon no nesterov', make: (p) => new Muon(p, { lr: 0.02, nesterov: false, nsSteps: 3 }) },
  { name: 'Muon reference', make: (p) => new Muon(p, { lr: 0.02, impl: 'reference' }) },
  { name: 'DeltaMomentum', make: (p) => new DeltaMomentum(p, { lr: 0.02, momentum: 0.9, erase: 0.5 }) },
  { name: 'DeltaMomentum unnormalised wd', make: (p) => new DeltaMomentum(p, { lr: 0.02, erase: 0.01, normalize: false, weightDecay: 0.1 }) }, // prettier-ignore
  { name: 'DeltaMomentum no erase', make: (p) => new DeltaMomentum(p, { lr: 0.02, erase: 0 }) },
  { name: 'DeltaMomentum reference', make: (p) => new DeltaMomentum(p, { erase: 0.7, impl: 'reference' }) },
  { name: 'PreconditionedMomentum identity', make: (p) => new PreconditionedMomentum(p, { lr: 0.05, weightDecay: 0.01 }) }, // prettier-ignore
  { name: 'PreconditionedMomentum rms', make: (p) => new PreconditionedMomentum(p, { lr: 0.01, weightDecay: 0.1, preconditioner: rmsPreconditioner(0.9, 1e-3) }) }, // prettier-ignore
  { name: 'PreconditionedMomentum custom (host)', make: (p) => new PreconditionedMomentum(p, { lr: 0.05, preconditioner: tanhCounting }) }, // prettier-ignore
  { name: 'DMGD', make: (p) => new DMGD(p, { lr: 0.2, hidden: 4 }) },
  {
    name: 'DMGD wd',
    make: (p) => new DMGD(p, { lr: 0.1, hidden: 3, weightDecay: 0.1, innerLr: 0.5, seed: 3 }),
  },
  { name: 'M3 practical', make: (p) => new M3(p, { lr: 0.05, frequency: 2 }) },
  {
    name: 'M3 literal',
    make: (p) => new M3(p, { lr: 0.003, mode: 'literal', frequency: 2, weightDecay: 0.1 }),
  },
  {
    name: 'M3 reference',
    make: (p) => new M3(p, { lr: 0.05, frequency: 3, impl: 'reference', rmsTarget: 0 }),
  },
];

function run(c: Case, device: Device, dtype: FloatDType) {
  const params = makeParams(device, dtype);
  const opt = c.make(params);
  for (let s = 0; s < STEPS; s++) {
    setGrads(params, s, dtype);
    opt.step();
  }
  return { params, opt };
}

describe.each(CASES)('$name on cuda == cpu', (c) => {
  for (const dtype of ['float32', 'float64'] as const)
    it(`parameters and state after ${STEPS} steps (${dtype})`, () => {
      const a = run(c, 'cpu', dtype);
      const b = run(c, 'cuda', dtype);
      const tol = { rtol: dtype === 'float32' ? (c.rtol32 ?? 1e-5) : (c.rtol64 ?? 1e-10) };
      a.params.forEach((p, i) => {
        expect(b.params[i]!.device).toBe('cuda');
        assertClose(`${c.name} param ${i}`, p.dataSync(), b.params[i]!.dataSync(), tol);
        const sa = a.opt.state.get(p)!;
        const sb = b.opt.state.get(b.params[i]!)!;
        expect(Object.keys(sb).sort()).toEqual(Object.keys(sa).sort());
        for (const [k, v] of Object.entries(sa)) {
          const w = sb[k];
          if (v instanceof Tensor) {
            expect(w).toBeInstanceOf(Tensor);
            expect((w as Tensor).device).toBe('cuda');
            expect((w as Tensor).shape).toEqual(v.shape);
            assertClose(`${c.name} param ${i} state ${k}`, v.dataSync(), (w as Tensor).dataSync(), tol);
          } else expect(w).toEqual(v);
        }
        if (a.opt instanceof DMGD) {
          const la = a.opt.lastInnerLossTensor.get(p)!.item();
          const lb = (b.opt as DMGD).lastInnerLossTensor.get(b.params[i]!)!;
          expect(lb.device).toBe('cuda');
          assertClose(`${c.name} inner loss ${i}`, [la], [lb.item()], { rtol: 1e-9 });
        }
      });
      [a, b].forEach((r) => {
        r.opt.dispose();
        r.params.forEach((p) => p.dispose());
      });
    });
});

describe('clipGradNorm on cuda == cpu', () => {
  for (const dtype of ['float32', 'float64'] as const)
    for (const maxNorm of [0.5, 1e3])
      it(`norm as a cuda tensor, grads scaled on the device (${dtype}, maxNorm ${maxNorm})`, () => {
        const [a, b] = (['cpu', 'cuda'] as const).map((d) => makeParams(d, dtype));
        // contiguous grads (clipping scales them in place); a big one spans several blocks
        const big = [a, b].map((ps) => {
          const t = tensor(new (ctor(dtype))(70000), { device: ps[0]!.device });
          t.requiresGrad = true;
          t.grad = tensor(fill(rng(5), 70000, dtype), { device: ps[0]!.device });
          return t;
        });
        [a, b].forEach((ps) => setGrads(ps.slice(1, 4), 0, dtype, false));
        const na = clipGradNorm([...a.slice(1, 4), big[0]!], maxNorm);
        const nb = clipGradNorm([...b.slice(1, 4), big[1]!], maxNorm);
        expect(nb).toBeInstanceOf(Tensor);
        expect(nb.device).toBe('cuda');
        expect(nb.dtype).toBe('float64');
        expect(nb.shape).toEqual([]);
        assertClose('total norm', [na.item()], [nb.item()], { rtol: 1e-12 });
        if (maxNorm < na.item()) expect(na.item()).toBeGreaterThan(maxNorm);
        [...a.slice(1, 4), big[0]!].forEach((p, i) =>
          assertClose(`grad ${i}`, p.grad!.dataSync(), [...b.slice(1, 4), big[1]!][i]!.grad!.dataSync()),
        );
        [na, nb, ...big, ...a, ...b].forEach((t) => t.dispose());
      });

  it('an empty list of gradients on cuda gives a zero norm', () => {
    const p = tensor([1, 2], { device: 'cuda' });
    const n = clipGradNorm([p], 1);
    expect(n.device).toBe('cuda');
    expect(n.item()).toBe(0);
    [p, n].forEach((t) => t.dispose());
  });
});

describe('Newton–Schulz on cuda == cpu', () => {
  const shapes: Array<[number, number, number, number]> = [
    [3, 5, 8, 5],
    [2, 9, 4, 5],
    [1, 70, 66, 2],
    [2, 3, 3, 0],
  ];
  for (const dtype of ['float32', 'float64'] as const)
    for (const [batch, rows, cols, steps] of shapes)
      it(`${batch}x${rows}x${cols}, ${steps} steps (${dtype})`, () => {
        const data = fill(rng(9), batch * rows * cols, dtype);
        const [x, y] = (['cpu', 'cuda'] as const).map((d) =>
          tensor(data, { shape: [batch, rows, cols], device: d }),
        );
        const [ox, oy] = [x, y].map((t) => newtonSchulzTensor(t!, { steps }));
        assertClose(`ns ${batch}x${rows}x${cols}`, ox!.dataSync(), oy!.dataSync(), {
          rtol: dtype === 'float32' ? 1e-4 : 1e-10,
          atol: dtype === 'float32' ? 1e-5 : 1e-12,
        });
        [x, y, ox, oy].forEach((t) => t!.dispose());
      });
});

describe('Newton–Schulz into a view that does not start its buffer', () => {
  for (const [rows, cols] of [
    [4, 7],
    [7, 4],
  ] as const)
    it(`out = a select() of a larger tensor (${rows}x${cols})`, () => {
      const data = fill(rng(3), 2 * rows * cols, 'float64');
      const want = newtonSchulzTensor(tensor(data, { shape: [2, rows, cols] }), { steps: 4 });
      const big = zeros([3, 2, rows, cols], { dtype: 'float64', device: 'cuda' });
      const out = big.select(0, 1);
      const x = tensor(data, { shape: [2, rows, cols], device: 'cuda' });
      newtonSchulzTensor(x, { steps: 4, out });
      assertClose('ns at offset', want.dataSync(), out.dataSync());
      expect(Array.from(big.select(0, 0).dataSync()).every((v) => v === 0)).toBe(true);
      expect(Array.from(big.select(0, 2).dataSync()).every((v) => v === 0)).toBe(true);
      [want, big, out, x].forEach((t) => t.dispose());
    });
});

describe('cuda optimizer kernels: sizes, leaks, bad calls', () => {
  it('a parameter larger than one grid of the elementwise launch (4096 blocks x 256 threads)', () => {
    const n = 4096 * 256 + 1234;
    const [a, b] = (['cpu', 'cuda'] as const).map((device) => {
      const p = tensor(fill(rng(1), n, 'float32'), { device });
      p.requiresGrad = true;
      const opt = new AdamW([p], { lr: 0.01, amsgrad: true });
      for (let s = 0; s < 2; s++) {
        p.grad = tensor(fill(rng(50 + s), n, 'float32'), { device });
        opt.step();
      }
      return { p, opt };
    });
    assertClose('big AdamW param', a!.p.dataSync(), b!.p.dataSync());
    [a!, b!].forEach((r) => (r.opt.dispose(), r.p.dispose()));
  });

  for (const c of CASES)
    it(`steps read nothing back and, after the first, leave the live tensor count unchanged (${c.name})`, () => {
      const params = makeParams('cuda', 'float32');
      const opt = c.make(params);
      const once = (s: number) => {
        setGrads(params, s, 'float32', false); // clipping scales grads in place: contiguous ones
        const spy = vi.spyOn(native, 'cudaDownload');
        clipGradNorm(params, 1).dispose();
        opt.step();
        // nothing is read back (a host preconditioner excepted)
        if (!c.name.includes('(host)')) expect(spy.mock.calls.length).toBe(0);
        spy.mockRestore();
      };
      once(0);
      const before = memory().numTensors;
      for (let s = 1; s < 3; s++) once(s);
      expect(memory().numTensors).toBe(before);
      opt.dispose();
      params.forEach((p) => p.dispose());
    });

  it('step() reads nothing back for the device preconditioners, and does for a host one', () => {
    const downloads = (preconditioner?: Preconditioner) => {
      const params = makeParams('cuda', 'float32');
      const opt = new PreconditionedMomentum(params, preconditioner ? { preconditioner } : {});
      setGrads(params, 0, 'float32');
      const spy = vi.spyOn(native, 'cudaDownload');
      opt.step();
      const n = spy.mock.calls.length;
      spy.mockRestore();
      opt.dispose();
      params.forEach((p) => p.dispose());
      return n;
    };
    expect(downloads()).toBe(0);
    expect(downloads(rmsPreconditioner())).toBe(0);
    expect(downloads(tanhCounting)).toBeGreaterThan(0);
  });

  it('the entry points refuse bad operands with errors (no crash)', () => {
    const p = tensor(new Float32Array(10), { device: 'cuda' });
    const ptr = (t: Tensor) => cudaPointer(t.storage.buffer);
    // operand count, reach past the buffer, a missing required operand, an unknown code
    expect(() => native.cudaOptimEw(0, 0, 10, [ptr(p)], [0], null, 0, [], 0)).toThrow(/takes 3 operands/);
    expect(() => native.cudaOptimEw(3, 0, 11, [ptr(p), ptr(p)], [0, 0], null, 0, [1, 1, 1], 0)).toThrow(
      /reaches element/,
    );
    expect(() => native.cudaOptimEw(3, 0, 10, [ptr(p), null], [0, 0], null, 0, [], 0)).toThrow(/required/);
    expect(() => native.cudaOptimEw(99, 0, 10, [], [], null, 0, [], 0)).toThrow(/unknown update code/);
    expect(() => native.cudaOptimEw(5, 0, 10, [ptr(p)], [0], null, 0, [1], 0)).toThrow(/device scalar/);
    // 40 bytes hold float64 scalars 0..4
    expect(() => native.cudaOptimEw(5, 0, 10, [ptr(p)], [0], ptr(p), 5, [1], 0)).toThrow(/reaches element/);
    expect(() => native.cudaOptimSumSq(0, ptr(p), 5, 6, ptr(p), 0, 1)).toThrow(/reaches element/);
    expect(() => native.cudaOptimNsNorm(0, ptr(p), 0, ptr(p), 0, 1, 4, 3)).toThrow(/reaches element/);
    expect(() => native.cudaOptimEw(3, 0, 10, [12345, ptr(p)], [0, 0], null, 0, [], 0)).toThrow(
      /not a live CUDA buffer/,
    );
    p.dispose();
  });
});
