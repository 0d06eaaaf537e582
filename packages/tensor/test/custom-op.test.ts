import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { assertClose, gradcheck } from '../src/index.js';
import { rt } from './helpers.js';

// A fused "scaled square" op with two outputs: o = a * x^2, s = sum(x) (its own backward).
const fused = T.defineOp<{ a: number }>({
  name: 'test.scaledSquare',
  forward(ctx, [x], attrs) {
    ctx.save(x);
    const tmp = x.mul(x); // freed by the op's scope
    return [tmp.mul(attrs.a), x.sum()];
  },
  backward(ctx, [gO, gS]) {
    const [x] = ctx.saved;
    let g: T.Tensor | null = gO ? gO.mul(x).mul(2 * ctx.attrs.a) : null;
    if (gS) g = g ? g.add(gS) : gS.expand(x.shape);
    return [g];
  },
});
const single = T.defineOp({
  name: 'test.double',
  forward: (_ctx, [x]) => x.mul(2),
  backward: (_ctx, [g]) => [g ? g.mul(2) : null],
});

describe('defineOp', () => {
  it('forward runs without recording; the op is recorded and its backward is used', () => {
    const x = rt([3], 1);
    x.requiresGrad = true;
    const [o, s] = fused([x], { a: 3 }) as T.Tensor[];
    expect(o.requiresGrad).toBe(true);
    assertClose(
      'o',
      Array.from(x.dataSync(), (v) => 3 * v * v),
      o,
    );
    o.sum().add(s.mul(2)).backward();
    assertClose(
      'grad',
      Array.from(x.dataSync(), (v) => 6 * v + 2),
      x.grad!,
    );
    gradcheck((t) => (fused([t], { a: 0.5 }) as T.Tensor[])[0], [rt([2, 3], 2)]);
    gradcheck((t) => (fused([t], { a: 0.5 }) as T.Tensor[])[1], [rt([2, 3], 3)]);
  });
  it('returns a Tensor for single-output forwards; identity outputs do not alias inputs', () => {
    const x = T.tensor([1, 2], { requiresGrad: true });
    const y = single([x]) as T.Tensor;
    expect(y).toBeInstanceOf(T.Tensor);
    y.sum().backward();
    expect(x.grad!.toArray()).toEqual([2, 2]);
    const id = T.defineOp({ name: 'test.identity', forward: (_c, [t]) => t, backward: (_c, [g]) => [g] });
    const z = id([x]) as T.Tensor;
    expect(z).not.toBe(x);
    expect(x.isLeaf).toBe(true);
  });
  it('registering a name twice throws; wrong gradient shapes are named', () => {
    expect(() =>
      T.defineOp({ name: 'test.double', forward: (_c, [x]) => x, backward: () => [null] }),
    ).toThrow(/already has a backward rule/);
    const bad = T.defineOp({
      name: 'test.bad',
      forward: (_c, [x]) => x.mul(1),
      backward: () => [T.ones([5])],
    });
    const x = T.tensor([1, 2], { requiresGrad: true });
    expect(() => (bad([x]) as T.Tensor).sum().backward()).toThrow(
      /backward of 'test.bad': gradient for input 0 has shape \[5\], expected \[2\]/,
    );
  });
  it('does not leak temporaries of forward', () => {
    const x = T.ones([4]);
    const before = T.memory().numTensors;
    const outs = fused([x], { a: 1 }) as T.Tensor[];
    expect(T.memory().numTensors).toBe(before + 2);
    outs.forEach((t) => t.dispose());
  });
});

describe('testing helpers', () => {
  it('assertClose reports max diff and relative RMS', () => {
    expect(() => T.testing.assertClose('v', [1, 2, 3], [1, 2, 3.1])).toThrow(
      /v: 1 of 3 values differ.*max abs diff 0\.1.*relative RMS/,
    );
    expect(() => T.testing.assertClose('s', T.zeros([2]), T.zeros([1, 2]))).toThrow(
      /shape mismatch, expected \[2\] got \[1, 2\]/,
    );
    expect(() => T.testing.assertClose('n', [NaN], [1])).toThrow(/differ/);
    T.testing.assertClose('ok', [1, NaN, Infinity], new Float64Array([1 + 1e-13, NaN, Infinity]));
  });
  it('gradcheck catches a wrong backward', () => {
    const wrong = T.defineOp({
      name: 'test.wrongGrad',
      forward: (_c, [x]) => x.mul(x),
      backward: (c, [g]) => [g!.mul(c.inputs[0])],
    });
    expect(() => gradcheck((t) => wrong([t]) as T.Tensor, [rt([3], 5)])).toThrow(
      /gradcheck: input 0 \[3\] element 0: analytic .* vs numeric/,
    );
  });
});
