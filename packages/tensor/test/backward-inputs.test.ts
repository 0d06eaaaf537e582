/**
 * backward({ inputs }): only the listed leaves receive gradients, ops from which none of them can
 * be reached are not walked, other leaves keep their grad; against closed-form gradients and
 * against a plain backward of the same graph.
 */
import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { assertClose } from '../src/index.js';

let walks = 0;
/** y = 3 x, counting its backward calls. */
const triple = T.defineOp({
  name: 'test.backwardInputs.triple',
  forward: (_ctx, [x]) => x.mul(3),
  backward: (_ctx, [g]) => {
    walks++;
    return [g ? g.mul(3) : null];
  },
});

const leaf = (v: number[]): T.Tensor => {
  const t = T.tensor(v, { dtype: 'float64' });
  t.requiresGrad = true;
  return t;
};

/** L = Σ (a ⊙ b) + Σ triple(c)²  (a, b, c [3]). */
function graph(a: T.Tensor, b: T.Tensor, c: T.Tensor): T.Tensor {
  const tc = triple([c]) as T.Tensor;
  return T.add(T.sum(T.mul(a, b)), T.sum(T.mul(tc, tc)));
}

describe('backward({ inputs })', () => {
  it('gives the listed leaves their gradient and leaves the others alone', () => {
    const [a, b, c] = [leaf([1, 2, 3]), leaf([-1, 0.5, 4]), leaf([0.2, -0.3, 0.7])];
    walks = 0;
    graph(a, b, c).backward(undefined, { inputs: [a] });
    assertClose('dL/da = b', [-1, 0.5, 4], a.grad!);
    expect(b.grad).toBeNull();
    expect(c.grad).toBeNull();
    expect(walks).toBe(0); // no listed leaf below triple: not walked
    walks = 0;
    graph(a, b, c).backward(undefined, { inputs: [c] });
    assertClose('dL/dc = 18 c', [3.6, -5.4, 12.6], c.grad!);
    expect(walks).toBe(1);
    assertClose('a.grad unchanged', [-1, 0.5, 4], a.grad!);
    expect(b.grad).toBeNull();
  });

  it('retainGraph: a partial backward then a full one through the same graph', () => {
    const [a, b, c] = [leaf([1, 2, 3]), leaf([-1, 0.5, 4]), leaf([0.2, -0.3, 0.7])];
    const l = graph(a, b, c);
    l.backward(undefined, { inputs: [b], retainGraph: true });
    assertClose('dL/db = a', [1, 2, 3], b.grad!);
    l.backward();
    assertClose('a', [-1, 0.5, 4], a.grad!);
    assertClose('b accumulated twice', [2, 4, 6], b.grad!);
    assertClose('c', [3.6, -5.4, 12.6], c.grad!);
  });

  it('a leaf root outside inputs gets nothing; non-leaf or no-grad inputs are refused', () => {
    const [a, b] = [leaf([1, 2]), leaf([3, 4])];
    const s = T.sum(a);
    s.backward(undefined, { inputs: [a] });
    assertClose('a', [1, 1], a.grad!);
    const r = leaf([5]);
    r.backward(undefined, { inputs: [b] });
    expect(r.grad).toBeNull();
    const mid = T.mul(a, 2);
    expect(() => T.sum(mid).backward(undefined, { inputs: [mid] })).toThrow(
      /leaf tensors.*computed by an op/,
    );
    const plain = T.tensor([1, 2]);
    expect(() => T.sum(T.mul(a, plain)).backward(undefined, { inputs: [plain] })).toThrow(
      /does not require grad/,
    );
    expect(b.grad).toBeNull();
  });
  it('rules see needsInputGrad false for inputs whose gradient reaches no target', () => {
    // y = mix(x, w) = x ⊙ w, then z = y ⊙ p with p a probe leaf; backward({ inputs: [p] }) needs
    // ∂L/∂p = y only: mix's rule must be told neither x nor w needs a gradient
    const seen: boolean[][] = [];
    const mix = T.defineOp({
      name: 'test.backwardInputs.mix',
      forward: (_ctx, [x, w]) => x!.mul(w!),
      backward: (ctx, [g]) => {
        seen.push([...ctx.needsInputGrad]);
        const [x, w] = ctx.inputs;
        return [ctx.needsInputGrad[0] ? g!.mul(w!) : null, ctx.needsInputGrad[1] ? g!.mul(x!) : null];
      },
    });
    const x = leaf([1, 2, 3]);
    const w = leaf([4, 5, 6]);
    const p = leaf([1, 1, 1]);
    const q = leaf([2, 2, 2]);
    // L = Σ mix(x, w) ⊙ p + Σ mix(x, w) ⊙ mix(q, x): targets [q] reach the second mix through q only
    const L = T.add(
      T.sum(T.mul(mix([x, w]) as T.Tensor, p)),
      T.sum(T.mul(mix([x, w]) as T.Tensor, mix([q, x]) as T.Tensor)),
    );
    L.backward(undefined, { inputs: [q], retainGraph: true });
    expect(seen).toEqual([[true, false]]); // mix(q, x): q needed, x not; the mix(x, w) nodes not walked
    assertClose('dq', new Float64Array([4, 20, 54]), q.grad!, { rtol: 1e-12 }); // x ⊙ w ⊙ x
    expect(x.grad).toBeNull();
    seen.length = 0;
    L.backward(); // a plain backward: every input needs its gradient again
    expect(seen).toEqual([
      [true, true],
      [true, true],
      [true, true],
    ]);
    assertClose('dq twice', new Float64Array([8, 40, 108]), q.grad!, { rtol: 1e-12 });
    // dL/dw = x ⊙ p + x ⊙ (q ⊙ x)
    assertClose('dw', new Float64Array([1 + 2, 2 + 8, 3 + 18]), w.grad!, { rtol: 1e-12 });
  });
});
