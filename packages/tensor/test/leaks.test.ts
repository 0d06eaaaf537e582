// No op leaves tracked temporaries behind: after disposing an op's outputs, memory() (tensors
// and bytes) is back to where it was, outside any tidy scope, with and without autograd recording.
import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';

const i32 = (v: number[]) => T.tensor(v, { dtype: 'int32' });

describe('ops do not leak temporaries', () => {
  for (const grad of [false, true]) {
    it(`every op (requiresGrad ${grad})`, () => {
      const x = T.randn([3, 4], { dtype: 'float64' });
      const y = T.randn([4], { dtype: 'float64' });
      const v = T.randn([4], { dtype: 'float64' });
      x.requiresGrad = grad;
      const idx = i32([2, 0]);
      const gidx = i32([0, 1, 2, 3, 0, 1]).reshape([3, 2]);
      const sidx = i32([1, 0, 2, 1]).reshape([1, 4]);
      const yu = y.unsqueeze(0);
      const xu = x.unsqueeze(0);
      const xt = x.t();
      const mask = x.gt(0);
      const cases: [string, () => T.Tensor | T.Tensor[]][] = [
        ['add', () => x.add(y)],
        ['sub number', () => T.sub(1, x)],
        ['pow', () => x.pow(2)],
        ['maximum', () => x.maximum(y)],
        ['gt', () => x.gt(0)],
        ['exp', () => x.exp()],
        ['gelu', () => x.gelu()],
        ['clamp', () => x.clamp(-1, 1)],
        ['where', () => T.where(mask, x, 0)],
        ['sum', () => x.sum(1)],
        ['max', () => x.max()],
        ['argmax all', () => x.argmax()],
        ['var', () => x.var(0)],
        ['std', () => x.std()],
        ['norm', () => x.norm(3, 1)],
        ['logsumexp', () => x.logsumexp(-1)],
        ['matmul 2-D', () => x.matmul(xt)],
        ['matmul 1-D', () => x.matmul(v)],
        ['dot', () => v.matmul(v)],
        ['reshape copy', () => xt.reshape([12])],
        ['permute', () => x.permute([1, 0])],
        ['expand', () => y.expand([2, 4])],
        ['squeeze', () => xu.squeeze()],
        ['flatten', () => x.flatten()],
        ['contiguous', () => xt.contiguous()],
        ['slice', () => x.slice(1, 1, 3)],
        ['select', () => x.select(0, 1)],
        ['split', () => x.split(2, 1)],
        ['chunk', () => x.chunk(3, 0)],
        ['cat', () => T.cat([x, x], 0)],
        ['stack', () => T.stack([x, x], 1)],
        ['pad', () => x.pad([1, 1])],
        ['indexSelect', () => x.indexSelect(0, idx)],
        ['gather', () => x.gather(1, gidx)],
        ['scatterAdd', () => x.scatterAdd(0, sidx, yu)],
        ['tril', () => x.tril()],
        ['cumsum', () => x.cumsum(1)],
        ['cumprod', () => x.cumprod(0)],
        ['softmax', () => x.softmax(-1)],
        ['logSoftmax', () => x.logSoftmax(0)],
        ['to', () => x.to('float32')],
        ['sumToShape', () => T.sumToShape(x, [1, 4])],
      ];
      for (const [name, f] of cases) {
        const before = T.memory();
        const out = f();
        for (const o of Array.isArray(out) ? out : [out]) o.dispose();
        expect({ name, ...T.memory() }).toEqual({ name, ...before });
      }
      for (const t of [x, y, v, idx, gidx, sidx, yu, xu, xt, mask]) t.dispose();
    });
  }
});
