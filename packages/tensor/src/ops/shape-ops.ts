/**
 * Layout ops. Views share storage (no copy): view, reshape (copies only when the layout forces
 * it), permute, transpose, expand, squeeze, unsqueeze, flatten, detach. Copies: contiguous, clone.
 * All are differentiable; expand's rule sums over the broadcast dims.
 */
import { Tensor } from '../tensor.js';
import { contiguousStrides, fmtShape, normDim, numelOf, sameShape } from '../shape.js';
import { runKernel } from '../device.js';
import type { CopyKernel } from '../backends/cpu-kernels.js';
import { record } from '../autograd/tape.js';
import { defineGrad } from '../autograd/grad-table.js';
import { checkOperands, empty_, makeView, viewOf } from './helpers.js';
import { sumToShape } from './reduce.js';

/** Resolves one -1 in `shape` against `numel`; throws naming both shapes when it cannot. */
export function inferShape(
  shape: readonly number[],
  numel: number,
  from: readonly number[],
  where: string,
): number[] {
  const out = shape.slice();
  let infer = -1;
  let known = 1;
  for (let i = 0; i < out.length; i++) {
    if (out[i] === -1) {
      if (infer >= 0) throw new RangeError(`${where}: only one dim can be -1, got ${fmtShape(shape)}`);
      infer = i;
    } else if (!Number.isInteger(out[i]) || out[i] < 0) {
      throw new RangeError(`${where}: invalid shape ${fmtShape(shape)}`);
    } else known *= out[i];
  }
  if (infer >= 0) {
    if (known === 0 || numel % known !== 0) {
      throw new RangeError(
        `${where}: cannot reshape ${fmtShape(from)} (${numel} elements) into ${fmtShape(shape)}`,
      );
    }
    out[infer] = numel / known;
  }
  if (numelOf(out) !== numel) {
    throw new RangeError(
      `${where}: cannot reshape ${fmtShape(from)} (${numel} elements) into ${fmtShape(shape)}`,
    );
  }
  return out;
}

/** Contiguous copy of `x` without recording. */
export function contiguousRaw(x: Tensor): Tensor {
  const out = empty_(x.shape, x.dtype, x.device, false);
  runKernel<CopyKernel>('copy', x.device, out.storage.buffer, x.shape, viewOf(x));
  return out;
}

/** Same data with a new shape (one dim may be -1). Throws if `x` is not contiguous. */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  checkOperands('view', x);
  const s = inferShape(shape, x.numel, x.shape, 'view');
  if (!x.isContiguous) {
    throw new Error(
      `view: tensor ${fmtShape(x.shape)} is not contiguous; use reshape() (copies) or contiguous() first`,
    );
  }
  const out = makeView(x, s, contiguousStrides(s), x.offset);
  record('reshape', [x], [out]);
  return out;
}

/** New shape (one dim may be -1); a view when `x` is contiguous, a copy otherwise. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  checkOperands('reshape', x);
  const s = inferShape(shape, x.numel, x.shape, 'reshape');
  const src = x.isContiguous ? x : contiguousRaw(x);
  const out = makeView(src, s, contiguousStrides(s), src.offset);
  if (src !== x) src.dispose();
  record('reshape', [x], [out]);
  return out;
}

/** Reorders dims: out.shape[i] = x.shape[dims[i]]. A view. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  checkOperands('permute', x);
  if (dims.length !== x.ndim) {
    throw new RangeError(
      `permute: got ${dims.length} dims [${dims.join(', ')}] for a tensor of shape ${fmtShape(x.shape)}`,
    );
  }
  const nd = dims.map((d) => normDim(d, x.ndim, 'permute'));
  if (new Set(nd).size !== nd.length) throw new RangeError(`permute: repeated dim in [${dims.join(', ')}]`);
  const out = makeView(
    x,
    nd.map((d) => x.shape[d]),
    nd.map((d) => x.strides[d]),
    x.offset,
  );
  record('permute', [x], [out], { dims: nd });
  return out;
}

/** Swaps two dims (default: the last two). A view. */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  checkOperands('transpose', x);
  const a = normDim(dim0, x.ndim, 'transpose');
  const b = normDim(dim1, x.ndim, 'transpose');
  const dims = Array.from({ length: x.ndim }, (_, i) => i);
  dims[a] = b;
  dims[b] = a;
  return permute(x, dims);
}

/** Broadcasts size-1 dims (and new leading dims) to `shape`; -1 keeps a size. A view (stride 0). */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  checkOperands('expand', x);
  const lead = shape.length - x.ndim;
  if (lead < 0)
    throw new RangeError(`expand: cannot expand ${fmtShape(x.shape)} to fewer dims ${fmtShape(shape)}`);
  const outShape: number[] = [];
  const strides: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (i < lead) {
      if (shape[i] < 0)
        throw new RangeError(`expand: -1 is not allowed for new leading dims, got ${fmtShape(shape)}`);
      outShape.push(shape[i]);
      strides.push(0);
      continue;
    }
    const have = x.shape[i - lead];
    const want = shape[i] === -1 ? have : shape[i];
    if (have !== want && have !== 1) {
      throw new RangeError(`expand: cannot expand shape ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
    }
    outShape.push(want);
    strides.push(have === want ? x.strides[i - lead] : 0);
  }
  if (sameShape(outShape, x.shape)) return x;
  const out = makeView(x, outShape, strides, x.offset);
  record('expand', [x], [out]);
  return out;
}

/** Removes size-1 dims (only `dim` when given). */
export function squeeze(x: Tensor, dim?: number | readonly number[]): Tensor {
  checkOperands('squeeze', x);
  const ds =
    dim === undefined
      ? null
      : (typeof dim === 'number' ? [dim] : dim).map((d) => normDim(d, x.ndim, 'squeeze'));
  const shape = x.shape.filter((s, i) => !(s === 1 && (ds === null || ds.includes(i))));
  return reshapeView(x, shape);
}

/** Inserts a size-1 dim at `dim` (negative counts from the end of the result). */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  checkOperands('unsqueeze', x);
  const d = normDim(dim, x.ndim + 1, 'unsqueeze');
  const shape = x.shape.slice();
  shape.splice(d, 0, 1);
  return reshapeView(x, shape);
}

/** Merges dims startDim..endDim into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  checkOperands('flatten', x);
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normDim(startDim, x.ndim, 'flatten');
  const e = normDim(endDim, x.ndim, 'flatten');
  if (s > e) throw new RangeError(`flatten: startDim ${startDim} comes after endDim ${endDim}`);
  const shape = [...x.shape.slice(0, s), numelOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

/** A view with size-1 dims added/removed, keeping strides (works for non-contiguous tensors). */
function reshapeView(x: Tensor, shape: number[]): Tensor {
  const big: number[] = [];
  for (let j = 0; j < x.ndim; j++) if (x.shape[j] !== 1) big.push(x.strides[j]);
  const strides = new Array<number>(shape.length);
  let k = big.length - 1;
  let next = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] === 1) strides[i] = next;
    else {
      strides[i] = big[k--];
      next = strides[i] * shape[i];
    }
  }
  const out = makeView(x, shape, strides, x.offset);
  record('reshape', [x], [out]);
  return out;
}

/** `x` when already contiguous, else a contiguous copy. */
export function contiguous(x: Tensor): Tensor {
  checkOperands('contiguous', x);
  if (x.isContiguous) return x;
  const out = contiguousRaw(x);
  record('clone', [x], [out]);
  return out;
}

/** A contiguous copy (differentiable). */
export function clone(x: Tensor): Tensor {
  checkOperands('clone', x);
  const out = contiguousRaw(x);
  record('clone', [x], [out]);
  return out;
}

/** A view of the same data cut from the graph (requiresGrad false). */
export function detach(x: Tensor): Tensor {
  checkOperands('detach', x);
  return makeView(x, x.shape, x.strides, x.offset);
}

defineGrad('reshape', (c, [g]) => [reshape(g!, c.inputs[0].shape)]);
defineGrad('permute', (c, [g]) => {
  const dims: number[] = c.attrs.dims;
  const inv = new Array<number>(dims.length);
  dims.forEach((d, i) => (inv[d] = i));
  return [permute(g!, inv)];
});
defineGrad('expand', (c, [g]) => [sumToShape(g!, c.inputs[0].shape)]);
defineGrad('clone', (_c, [g]) => [g]);
