import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { assertClose, gradcheck } from '../src/index.js';
import { rt } from './helpers.js';

describe('in-place writes', () => {
  it('fill_/zero_/copy_ on contiguous and strided views (shared storage sees them)', () => {
    const x = T.zeros([2, 3]);
    x.t().select(0, 1).fill_(5); // column 1
    expect(x.toArray()).toEqual([
      [0, 5, 0],
      [0, 5, 0],
    ]);
    x.copy_(T.tensor([1, 2, 3]));
    expect(x.toArray()).toEqual([
      [1, 2, 3],
      [1, 2, 3],
    ]);
    x.narrow(1, 1, 2).copy_(
      T.tensor(
        [
          [7, 8],
          [9, 10],
        ],
        { dtype: 'float64' },
      ),
    );
    expect(x.toArray()).toEqual([
      [1, 7, 8],
      [1, 9, 10],
    ]);
    x.zero_();
    expect(x.sum().item()).toBe(0);
    const y = T.arange(4, undefined, 1, { dtype: 'float32' });
    y.slice(0, 1).copy_(y.slice(0, 0, 3)); // overlapping source is snapshotted
    expect(y.toArray()).toEqual([0, 0, 1, 2]);
    expect(() => x.copy_(T.zeros([4]))).toThrow(/source shape \[4\] cannot be broadcast to \[2, 3\]/);
  });
  it('refuse tensors requiring grad unless under noGrad', () => {
    const p = T.ones([2], { requiresGrad: true });
    expect(() => p.fill_(0)).toThrow(/in-place write to a tensor that requires grad/);
    T.noGrad(() => p.fill_(3));
    expect(p.toArray()).toEqual([3, 3]);
  });
});

describe('std / norm', () => {
  it('forward vs reference and gradcheck', () => {
    const x = rt([3, 5], 1);
    const xs = x.toArray() as number[][];
    const ref = xs.map((r) => {
      const m = r.reduce((a, b) => a + b, 0) / r.length;
      return Math.sqrt(r.reduce((a, b) => a + (b - m) ** 2, 0) / (r.length - 1));
    });
    assertClose('std', ref, x.std(1), { rtol: 1e-12 });
    assertClose('norm2', [Math.hypot(...xs.flat())], [x.norm().item()], { rtol: 1e-12 });
    assertClose(
      'norm1 dim',
      xs.map((r) => r.reduce((a, b) => a + Math.abs(b), 0)),
      x.norm(1, 1),
      { rtol: 1e-12 },
    );
    assertClose(
      'norm3',
      xs.map((r) => Math.cbrt(r.reduce((a, b) => a + Math.abs(b) ** 3, 0))),
      x.norm(3, -1),
      { rtol: 1e-12 },
    );
    assertClose(
      'norm inf',
      xs.map((r) => Math.max(...r.map(Math.abs))),
      x.norm(Infinity, 1),
      { rtol: 1e-12 },
    );
    gradcheck((t) => t.std(0), [x]);
    gradcheck((t) => t.norm(2, 1), [x]);
    gradcheck((t) => t.norm(3), [x]);
    expect(() => x.norm(0)).toThrow(/p must be positive/);
  });
});
