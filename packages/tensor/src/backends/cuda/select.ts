/**
 * CUDA kernels of the select family, registered under 'cuda' (see ../cuda-kernels.ts): the
 * contracts of the CPU kernels in src/kernels/select-kernels.ts. Operands are read through their
 * strides (no contiguous copies); outputs are the contiguous tensors the ops allocate. Index
 * values are validated on the device first (./select-check.ts: one small read-back per indexed
 * op) so a bad index throws the CPU's RangeError; the kernels also skip bad values, so nothing
 * reads or writes out of bounds either way. 0-d operands run as shape [1].
 */
import { native } from '@nl/native';
import type { DeviceBuffer } from '../../backend/types.js';
import { registerKernel } from '../../backend/registry.js';
import type { DType } from '../../dtype.js';
import type { Tensor } from '../../tensor.js';
import type {
  GatherKernel,
  IndexAddKernel,
  IndexSelectKernel,
  MultinomialKernel,
  ScatterAddKernel,
  SpreadKernel,
  TopkKernel,
} from '../../kernels/select-kernels.js';
import { contiguousStrides } from '../../shape.js';
import { cudaDTypeOf, cudaDeviceOf, cudaPointer, gatherAs, releaseScratch, scratch } from '../cuda.js';
import { checkIndexRange, firstBadIn } from './select-check.js';

const ptr = (t: Tensor): number => cudaPointer(t.storage.buffer);
const dt = (t: Tensor) => cudaDTypeOf(t.dtype);

/** A strided operand: buffer, offset, shape and strides (0-d as [1]). */
interface Operand {
  buf: DeviceBuffer;
  offset: number;
  shape: readonly number[];
  strides: readonly number[];
}
function operand(t: Tensor): Operand {
  const zeroD = t.ndim === 0;
  return {
    buf: t.storage.buffer,
    offset: t.offset,
    shape: zeroD ? [1] : t.shape,
    strides: zeroD ? [0] : t.strides,
  };
}

/** `t` as an operand of dtype `dtype`: itself, or a converted contiguous copy (+ the scratch to free). */
function asDtype(t: Tensor, dtype: DType): [Operand, DeviceBuffer | null] {
  const o = operand(t);
  if (t.dtype === dtype) return [o, null];
  const buf = gatherAs(o.buf, o.offset, o.strides, o.shape, dtype);
  return [{ buf, offset: 0, shape: o.shape, strides: contiguousStrides(o.shape) }, buf];
}

function withScratch(s: DeviceBuffer | null, run: () => void): void {
  try {
    run();
  } finally {
    if (s !== null) releaseScratch(s);
  }
}

/** The 1-D index's element stride (0 for a 0-d index). */
const stride1 = (index: Tensor): number => (index.ndim === 0 ? 0 : index.strides[0]);

const indexSelect: IndexSelectKernel = (out, x, d, index) => {
  const size = x.shape[d] ?? 1;
  checkIndexRange('indexSelect', index, d, size);
  const X = operand(x);
  native.cudaIndexSelect(ptr(out), dt(x), ptr(x), X.offset, X.shape, X.strides, d, ptr(index), index.offset, stride1(index), index.numel); // prettier-ignore
};

const indexAdd: IndexAddKernel = (out, d, index, src) => {
  const size = out.shape[d] ?? 1;
  checkIndexRange('indexAdd', index, d, size);
  const [S, tmp] = asDtype(src, out.dtype);
  withScratch(
    tmp,
    () =>
    native.cudaIndexAdd(ptr(out), dt(out), operand(out).shape, d, ptr(index), index.offset, stride1(index), index.numel, cudaPointer(S.buf), S.offset, S.strides), // prettier-ignore
  );
};

const gather: GatherKernel = (out, x, d, index) => {
  const X = operand(x);
  const I = operand(index);
  checkIndexRange('gather', index, d, X.shape[d]);
  native.cudaGather(ptr(out), dt(x), ptr(x), X.offset, X.shape, X.strides, d, ptr(index), I.offset, I.shape, I.strides); // prettier-ignore
};

const scatterAdd: ScatterAddKernel = (out, d, index, src) => {
  const O = operand(out);
  const I = operand(index);
  checkIndexRange('scatterAdd', index, d, O.shape[d]);
  const [S, tmp] = asDtype(src, out.dtype);
  withScratch(
    tmp,
    () =>
    native.cudaScatterAdd(ptr(out), dt(out), O.shape, d, ptr(index), I.offset, I.shape, I.strides, cudaPointer(S.buf), S.offset, S.strides), // prettier-ignore
  );
};

const spread: SpreadKernel = (full, gs) => {
  const [G, tmp] = asDtype(gs, full.dtype);
  withScratch(
    tmp,
    () =>
    native.cudaScatterSpread(ptr(full), dt(full), operand(full).shape, cudaPointer(G.buf), G.offset, G.shape, G.strides), // prettier-ignore
  );
};

const topk: TopkKernel = (indices, x, d, k, largest) => {
  const X = operand(x);
  native.cudaTopk(ptr(indices), ptr(x), dt(x), X.offset, X.shape, X.strides, d, k, largest);
};

/** One weight, read back for an error message. */
function weightAt(w: Tensor, offset: number): number {
  const one = w.dtype === 'float64' ? new Float64Array(1) : w.dtype === 'float32' ? new Float32Array(1) : new Int32Array(1); // prettier-ignore
  native.cudaDownload(ptr(w), offset * one.BYTES_PER_ELEMENT, one);
  return one[0];
}

/**
 * Checks and sums each row on the device, reads back only the first bad row (if any), then draws
 * the uniforms on the host from `g` in the CPU's order (one upload) and samples on the device. On
 * a bad row the generator advances by the draws the CPU made before it threw.
 */
const multinomial: MultinomialKernel = (out, weights, rows, n, numSamples, g) => {
  const device = cudaDeviceOf(weights.storage.buffer);
  const rs = weights.ndim === 2 ? weights.strides[0] : 0;
  const cs = weights.strides[weights.ndim - 1];
  const err = scratch(device, 'int32', rows);
  const total = scratch(device, 'float64', rows);
  try {
    native.cudaMultinomialPrep(cudaPointer(err), cudaPointer(total), ptr(weights), dt(weights), weights.offset, rows, n, rs, cs); // prettier-ignore
    const bad = firstBadIn(err, 0, [rows], [1], -1, 0);
    if (bad !== null) {
      const r = bad.position;
      for (let j = 0; j < r * numSamples; j++) g.random();
      if (bad.value === n) throw new RangeError(`multinomial: row ${r} of the weights sums to 0`);
      const v = weightAt(weights, weights.offset + r * rs + bad.value * cs);
      throw new RangeError(
        `multinomial: weights must be finite and non-negative, row ${r} has ${v} at ${bad.value}`,
      );
    }
    const u = new Float64Array(rows * numSamples);
    for (let j = 0; j < u.length; j++) u[j] = g.random();
    const ub = scratch(device, 'float64', u.length);
    withScratch(ub, () => {
      native.cudaUpload(cudaPointer(ub), 0, u);
      native.cudaMultinomialSample(ptr(out), ptr(weights), dt(weights), weights.offset, rows, n, rs, cs, cudaPointer(err), cudaPointer(total), cudaPointer(ub), numSamples); // prettier-ignore
    });
  } finally {
    releaseScratch(err);
    releaseScratch(total);
  }
};

registerKernel('indexSelect', 'cuda', indexSelect);
registerKernel('indexAdd', 'cuda', indexAdd);
registerKernel('gather', 'cuda', gather);
registerKernel('scatterAdd', 'cuda', scatterAdd);
registerKernel('scatterSpread', 'cuda', spread);
registerKernel('topk', 'cuda', topk);
registerKernel('multinomial', 'cuda', multinomial);
