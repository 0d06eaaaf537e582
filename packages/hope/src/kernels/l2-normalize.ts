/**
 * Op `hope.l2Normalize`: y = x / (‖x‖₂ + ε) over the last dim, x [..., D] → [..., D]. One pass
 * forward and one backward instead of the norm / add / unsqueeze / div chain of tensor ops and
 * the backward of each (HopeBlock normalizes the memories' inputs and queries per head).
 *   'cpu' (also 'sim'): host loops over the rows, sums in float64.
 *   other devices ('cuda'): composed of tensor ops (the same formulas), so the op runs wherever
 *   the model runs.
 * Gradient, per row with r = ‖x‖, n = r + ε:  dx = g / n − x (g·x) / (n² r).
 * At r = 0 (a zero row) the second term is taken as 0; the reference chain's norm has a NaN
 * gradient there (nl/tensor `norm`).
 */
import { add, defineOp, div, mul, norm, sub, sum, unsqueeze, type Tensor } from '@nl/tensor';
import { elementsOf, emptyTensor } from '@nl/tensor/internal';

/** ε of the normalization (HopeBlock's and SelfModifyingTitans' key normalization use 1e-6). */
export const L2_EPS = 1e-6;

type Rows = Float32Array | Float64Array;

/** The plain reference: x / (‖x‖ + ε) with tensor ops (autograd through each). */
export function l2NormalizeReference(x: Tensor, eps = L2_EPS): Tensor {
  return div(x, add(unsqueeze(norm(x, 2, -1), -1), eps));
}

/** Host forward into y: rows of length d. */
function forwardRows(x: Rows, y: Rows, d: number, eps: number): void {
  for (let o = 0; o < x.length; o += d) {
    let ss = 0;
    for (let i = o; i < o + d; i++) ss += x[i]! * x[i]!;
    const inv = 1 / (Math.sqrt(ss) + eps);
    for (let i = o; i < o + d; i++) y[i] = x[i]! * inv;
  }
}

/** Host backward into dx: dx = g / n − x (g·x) / (n² r). */
function backwardRows(x: Rows, g: Rows, dx: Rows, d: number, eps: number): void {
  for (let o = 0; o < x.length; o += d) {
    let ss = 0;
    let dot = 0;
    for (let i = o; i < o + d; i++) {
      ss += x[i]! * x[i]!;
      dot += g[i]! * x[i]!;
    }
    const r = Math.sqrt(ss);
    const inv = 1 / (r + eps);
    const c = r > 0 ? (dot * inv * inv) / r : 0;
    for (let i = o; i < o + d; i++) dx[i] = g[i]! * inv - x[i]! * c;
  }
}

interface Attrs extends Record<string, unknown> {
  eps: number;
}

const rows = (t: Tensor): Rows => elementsOf(t) as Rows;
/** A new output like x from the buffer pool (not zeroed: the loops write every element). */
const outputLike = (x: Tensor): Tensor => emptyTensor(x.shape, x.dtype, x.device, false);

const op = defineOp<Attrs>({
  name: 'hope.l2Normalize',
  forward: {
    cpu: (_ctx, [x], a) => {
      const y = outputLike(x!);
      forwardRows(rows(x!), rows(y), x!.shape.at(-1)!, a.eps);
      return y;
    },
    cuda: (_ctx, [x], a) => l2NormalizeReference(x!, a.eps),
  },
  backward: {
    cpu: (ctx, [g]) => {
      const x = ctx.inputs[0]!;
      if (g === null) return [null];
      const dx = outputLike(x);
      backwardRows(rows(x), rows(g), rows(dx), x.shape.at(-1)!, ctx.attrs.eps);
      return [dx];
    },
    cuda: (ctx, [g]) => {
      const x = ctx.inputs[0]!;
      if (g === null) return [null];
      const r = unsqueeze(norm(x, 2, -1), -1); // [..., 1]
      const n = add(r, ctx.attrs.eps);
      const dot = sum(mul(g, x), -1, true);
      return [sub(div(g, n), mul(x, div(dot, mul(mul(n, n), r))))];
    },
  },
});

/** x [..., D] → x / (‖x‖₂ + eps) over the last dim (one fused op; see the file comment). */
export function l2Normalize(x: Tensor, eps = L2_EPS): Tensor {
  if (x.ndim < 1 || (x.dtype !== 'float32' && x.dtype !== 'float64'))
    throw new Error(
      `l2Normalize: x must be a float32 or float64 tensor of rank >= 1, got ${x.dtype} of shape [${x.shape.join(', ')}]`,
    );
  return op([x], { eps }) as Tensor;
}
