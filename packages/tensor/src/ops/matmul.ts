/**
 * matmul with NumPy/PyTorch semantics: 1-D operands are promoted (and the added dim removed),
 * batch dims broadcast. a [..., m, k] @ b [..., k, n] -> [...batch, m, n].
 * Runs through `native.gemm` (strided batched GEMM): transposed 2-D/batched views are passed as
 * transA/transB with their leading dims, broadcast batch dims as stride 0, so no operand is copied
 * unless its last two dims are neither row- nor column-major. Batch dims that cannot be walked with
 * one stride are looped over, one batched gemm call per outer index.
 */
import { runKernel } from '../device.js';
import type { GemmKernel } from '../backends/cpu-kernels.js';
import { isFloat } from '../dtype.js';
import { Tensor } from '../tensor.js';
import {
  broadcastShapes,
  broadcastStrides,
  collapseDims,
  contiguousStrides,
  fmtShape,
  numelOf,
} from '../shape.js';
import { record } from '../autograd/tape.js';
import { defineGrad } from '../autograd/grad-table.js';
import { checkOperands, empty_ } from './helpers.js';
import { contiguousRaw, reshape, squeeze, transpose, unsqueeze } from './shape-ops.js';
import { sumToShape } from './reduce.js';

interface MatDesc {
  trans: boolean;
  ld: number;
}

/** How gemm can read the last two dims of `t` as a rows x cols matrix, or null if it cannot. */
function matDesc(t: Tensor, rows: number, cols: number): MatDesc | null {
  const nd = t.ndim;
  const sr = t.strides[nd - 2];
  const sc = t.strides[nd - 1];
  if (cols <= 1 || sc === 1) {
    const ld = rows <= 1 ? Math.max(cols, 1) : sr;
    if (ld >= Math.max(cols, 1)) return { trans: false, ld };
  }
  if (rows <= 1 || sr === 1) {
    const ld = cols <= 1 ? Math.max(rows, 1) : sc;
    if (ld >= Math.max(rows, 1)) return { trans: true, ld };
  }
  return null;
}

/** a [..., m, k] @ b [..., k, n] for rank >= 2 operands, without recording. */
export function matmulRaw(a: Tensor, b: Tensor): Tensor {
  const m = a.shape[a.ndim - 2];
  const k = a.shape[a.ndim - 1];
  const n = b.shape[b.ndim - 1];
  if (b.shape[b.ndim - 2] !== k) {
    throw new RangeError(
      `matmul: shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} are not aligned (${k} != ${b.shape[b.ndim - 2]})`,
    );
  }
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'matmul (batch dims)');
  const out = empty_([...batch, m, n], a.dtype, a.device);
  if (numelOf(out.shape) === 0 || k === 0) return out;
  let A = a;
  let B = b;
  let da = matDesc(A, m, k);
  if (da === null) {
    A = contiguousRaw(a);
    da = matDesc(A, m, k)!;
  }
  let db = matDesc(B, k, n);
  if (db === null) {
    B = contiguousRaw(b);
    db = matDesc(B, k, n)!;
  }
  const bsA = broadcastStrides(A.shape.slice(0, -2), A.strides.slice(0, -2), batch);
  const bsB = broadcastStrides(B.shape.slice(0, -2), B.strides.slice(0, -2), batch);
  const bsC = contiguousStrides(batch).map((s) => s * m * n);
  const col = collapseDims(batch, [bsA, bsB, bsC]);
  const dims = col.shape;
  const [sA, sB, sC] = col.strides;
  const nd = dims.length;
  if (nd === 1 && sB[0] === 0 && !da.trans && sA[0] === m * da.ld && sC[0] === m * n) {
    // b shared by every batch and a's batches stacked row after row: one GEMM over all the rows
    runKernel<GemmKernel>('gemm', a.device, false, db.trans, m * dims[0], n, k, 1, A.storage.buffer, A.offset, da.ld, 0,
      B.storage.buffer, B.offset, db.ld, 0, 0, out.storage.buffer, 0, n, 0, 1); // prettier-ignore
    if (A !== a) A.dispose();
    if (B !== b) B.dispose();
    return out;
  }
  const inner = dims[nd - 1];
  const outer = numelOf(dims) / inner;
  const idx = new Array<number>(nd).fill(0);
  let oa = A.offset;
  let ob = B.offset;
  let oc = 0;
  const c = out.storage.buffer;
  const aData = A.storage.buffer;
  const bData = B.storage.buffer;
  for (let r = 0; r < outer; r++) {
    runKernel<GemmKernel>(
      'gemm',
      a.device,
      da.trans,
      db.trans,
      m,
      n,
      k,
      1,
      aData,
      oa,
      da.ld,
      sA[nd - 1],
      bData,
      ob,
      db.ld,
      sB[nd - 1],
      0,
      c,
      oc,
      n,
      sC[nd - 1],
      inner,
    );
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      oa += sA[d];
      ob += sB[d];
      oc += sC[d];
      if (idx[d] < dims[d]) break;
      oa -= sA[d] * dims[d];
      ob -= sB[d] * dims[d];
      oc -= sC[d] * dims[d];
      idx[d] = 0;
    }
  }
  if (A !== a) A.dispose();
  if (B !== b) B.dispose();
  return out;
}

/**
 * Matrix product with batch broadcasting.
 * @param a - [..., m, k] or [k]
 * @param b - [..., k, n] or [k]
 * @returns [...broadcast(batchA, batchB), m, n] (dims of 1-D operands removed)
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkOperands('matmul', a, b);
  if (a.dtype !== b.dtype) throw new TypeError(`matmul: dtype mismatch, ${a.dtype} and ${b.dtype}`);
  if (!isFloat(a.dtype)) throw new TypeError(`matmul: float32/float64 operands required, got ${a.dtype}`);
  if (a.ndim === 0 || b.ndim === 0) {
    throw new RangeError(
      `matmul: both operands need at least 1 dim, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`,
    );
  }
  if (a.ndim === 1 || b.ndim === 1) {
    const A = a.ndim === 1 ? unsqueeze(a, 0) : a;
    const B = b.ndim === 1 ? unsqueeze(b, -1) : b;
    if (A.shape[A.ndim - 1] !== B.shape[B.ndim - 2]) {
      throw new RangeError(`matmul: shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} are not aligned`);
    }
    const temps: Tensor[] = [];
    if (A !== a) temps.push(A);
    if (B !== b) temps.push(B);
    let out = matmul(A, B);
    if (b.ndim === 1) {
      temps.push(out);
      out = squeeze(out, -1);
    }
    if (a.ndim === 1) {
      temps.push(out);
      out = squeeze(out, b.ndim === 1 ? -1 : -2);
    }
    // intermediates are views/temporaries; the graph keeps what backward needs
    for (const t of temps) t.dispose();
    return out;
  }
  const out = matmulRaw(a, b);
  record('matmul', [a, b], [out]);
  return out;
}

/** [..., r, c] as one [rows, c] matrix (a view when contiguous, else a copy). */
const rows2d = (t: Tensor): Tensor => reshape(t, [-1, t.shape[t.ndim - 1]]);

defineGrad('matmul', (c, [g]) => {
  const [a, b] = c.inputs;
  if (a.ndim > 2 && b.ndim === 2) {
    // b is shared by every batch (a linear layer): one GEMM over all the rows for each gradient,
    // not a batched GEMM into [..., k, n] summed over the batch
    const g2 = rows2d(g!);
    return [
      c.needsInputGrad[0] ? reshape(matmulRaw(g2, transpose(b)), a.shape) : null,
      c.needsInputGrad[1] ? matmulRaw(transpose(rows2d(a)), g2) : null,
    ];
  }
  return [
    c.needsInputGrad[0] ? sumToShape(matmulRaw(g!, transpose(b)), a.shape) : null,
    c.needsInputGrad[1] ? sumToShape(matmulRaw(transpose(a), g!), b.shape) : null,
  ];
});
