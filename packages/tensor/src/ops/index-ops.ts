/**
 * Integer-indexed ops (index tensors are int32, every index range-checked with a clear error):
 *   indexSelect(x, dim, index[k])          -> x with dim resized to k
 *   gather(x, dim, index)                  -> shape of index; out[..i..] = x[..index[..i..]..]
 *   scatterAdd(x, dim, index, src)         -> x + src accumulated at index positions
 *   indexAdd(x, dim, index[k], src)        -> x + src rows added at index along dim
 */
import { Tensor } from '../tensor.js';
import { fmtShape, normDim } from '../shape.js';
import { record } from '../autograd/tape.js';
import { defineGrad } from '../autograd/grad-table.js';
import { checkOperands, empty_ } from './helpers.js';
import { contiguousRaw } from './shape-ops.js';
import { runKernel } from '../device.js';
import type {
  GatherKernel,
  IndexAddKernel,
  IndexSelectKernel,
  ScatterAddKernel,
  SpreadKernel,
} from '../kernels/select-kernels.js';

function checkIndex(where: string, index: Tensor): void {
  if (index.dtype !== 'int32') throw new TypeError(`${where}: index must be int32, got ${index.dtype}`);
}
/** Runs a kernel that fills `out`; frees `out` when the kernel throws (a bad index). */
function launch(out: Tensor, run: () => void): void {
  try {
    run();
  } catch (e) {
    out.dispose();
    throw e;
  }
}

/** Rows of `x` along `dim` picked by a 1-D int32 index (negative indices count from the end). */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  checkOperands('indexSelect', x, index);
  checkIndex('indexSelect', index);
  if (index.ndim > 1)
    throw new RangeError(`indexSelect: index must be 1-D, got shape ${fmtShape(index.shape)}`);
  const d = normDim(dim, x.ndim, 'indexSelect');
  const shape = x.shape.slice();
  if (x.ndim > 0) shape[d] = index.numel;
  const out = empty_(shape, x.dtype, x.device);
  launch(out, () => runKernel<IndexSelectKernel>('indexSelect', x.device, out, x, d, index));
  record('indexSelect', [x], [out], { dim: d }, [index]);
  return out;
}

/** x + src, where the rows of src are added at positions `index` along `dim` (duplicates accumulate). */
export function indexAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  checkOperands('indexAdd', x, index, src);
  checkIndex('indexAdd', index);
  const d = normDim(dim, x.ndim, 'indexAdd');
  const want = x.shape.slice();
  if (x.ndim > 0) want[d] = index.numel;
  if (want.length !== src.ndim || want.some((s, i) => s !== src.shape[i])) {
    throw new RangeError(
      `indexAdd: src shape ${fmtShape(src.shape)} does not match ${fmtShape(want)} (x ${fmtShape(x.shape)}, ${index.numel} indices)`,
    );
  }
  const out = contiguousRaw(x);
  launch(out, () => runKernel<IndexAddKernel>('indexAdd', x.device, out, d, index, src));
  record('indexAdd', [x, src], [out], { dim: d }, [index]);
  return out;
}

function checkGatherShapes(where: string, x: Tensor, index: Tensor, d: number): void {
  if (index.ndim !== x.ndim)
    throw new RangeError(
      `${where}: index ${fmtShape(index.shape)} must have as many dims as x ${fmtShape(x.shape)}`,
    );
  for (let i = 0; i < x.ndim; i++) {
    if (i !== d && index.shape[i] > x.shape[i]) {
      throw new RangeError(
        `${where}: index ${fmtShape(index.shape)} is larger than x ${fmtShape(x.shape)} in dim ${i}`,
      );
    }
  }
}

/** out[i][j][k] = x[i][index[i][j][k]][k] (for dim 1); shape of index. */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  checkOperands('gather', x, index);
  checkIndex('gather', index);
  const d = normDim(dim, x.ndim, 'gather');
  checkGatherShapes('gather', x, index, d);
  const out = empty_(index.shape, x.dtype, x.device);
  launch(out, () => runKernel<GatherKernel>('gather', x.device, out, x, d, index));
  record('gather', [x], [out], { dim: d }, [index]);
  return out;
}

/** x + src accumulated at index positions: out[i][index[i][j][k]][k] += src[i][j][k] (dim 1). */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  checkOperands('scatterAdd', x, index, src);
  checkIndex('scatterAdd', index);
  const d = normDim(dim, x.ndim, 'scatterAdd');
  checkGatherShapes('scatterAdd', x, index, d);
  if (src.ndim !== index.ndim || index.shape.some((s, i) => s > src.shape[i])) {
    throw new RangeError(
      `scatterAdd: src ${fmtShape(src.shape)} must be at least as large as index ${fmtShape(index.shape)}`,
    );
  }
  const out = contiguousRaw(x);
  launch(out, () => runKernel<ScatterAddKernel>('scatterAdd', x.device, out, d, index, src));
  record('scatterAdd', [x, src], [out], { dim: d }, [index]);
  return out;
}

defineGrad('indexSelect', (c, [g]) => {
  const x = c.inputs[0];
  const zeros = empty_(x.shape, g!.dtype, g!.device);
  return [indexAdd(zeros, c.attrs.dim, c.saved[0], g!)];
});
defineGrad('indexAdd', (c, [g]) => [
  g,
  c.needsInputGrad[1] ? indexSelect(g!, c.attrs.dim, c.saved[0]) : null,
]);
defineGrad('gather', (c, [g]) => {
  const x = c.inputs[0];
  const zeros = empty_(x.shape, g!.dtype, g!.device);
  return [scatterAdd(zeros, c.attrs.dim, c.saved[0], g!)];
});
defineGrad('scatterAdd', (c, [g]) => {
  const src = c.inputs[1];
  if (!c.needsInputGrad[1]) return [g, null];
  const gs = gather(g!, c.attrs.dim, c.saved[0]);
  // src may be larger than index: positions outside index get no gradient
  if (src.shape.every((s, i) => s === gs.shape[i])) return [g, gs];
  const full = empty_(src.shape, gs.dtype, gs.device);
  runKernel<SpreadKernel>('scatterSpread', full.device, full, gs);
  return [g, full];
});
