/**
 * CPU kernels of the scans and triangles, each in place on a contiguous tensor the op allocated:
 * `triangle` (tril/triu mask of the last two dims), `scan` (cumsum/cumprod/reverse cumsum along
 * [outer, n, inner]), `cumprodBackward`. Also softmax / logSoftmax rows. Registered under 'cpu'.
 */
import type { Tensor } from '../tensor.js';
import { registerKernel } from '../backend/registry.js';
import { aroundDim } from './strided-write.js';
import { nativeSoftmaxRows } from './native-ops.js';
import { storageOf } from './host.js';

/** Zeroes the entries outside the triangle (tril: j - i <= k; triu: j - i >= k) of contiguous `out`. */
export type TriangleKernel = (out: Tensor, lower: boolean, k: number) => void;
const triangle: TriangleKernel = (out, lower, k) => {
  const r = out.shape[out.ndim - 2];
  const c = out.shape[out.ndim - 1];
  const o = storageOf(out);
  for (let b = 0; b < out.numel; b += r * c) {
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < c; j++) {
        const keep = lower ? j - i <= k : j - i >= k;
        if (!keep) o[b + i * c + j] = 0;
      }
    }
  }
};

/** In-place scan of contiguous `out` along `dim`. */
export type ScanKernel = (out: Tensor, dim: number, kind: 'sum' | 'prod' | 'revsum') => void;
const scan: ScanKernel = (out, dim, kind) => {
  const o = storageOf(out);
  const { outer, n, inner } = aroundDim(out.shape, dim);
  for (let p = 0; p < outer; p++) {
    for (let q = 0; q < inner; q++) {
      const s = p * n * inner + q;
      if (kind === 'revsum') {
        let acc = 0;
        for (let i = n - 1; i >= 0; i--) o[s + i * inner] = acc += o[s + i * inner];
      } else {
        let acc = kind === 'sum' ? 0 : 1;
        for (let i = 0; i < n; i++) {
          acc = kind === 'sum' ? acc + o[s + i * inner] : acc * o[s + i * inner];
          o[s + i * inner] = acc;
        }
      }
    }
  }
};

/** dx_i = sum_{j >= i} g_j * prod_{k <= j, k != i} x_k along `dim` (all three contiguous). */
export type CumprodBackwardKernel = (out: Tensor, x: Tensor, g: Tensor, dim: number) => void;
const cumprodBackward: CumprodBackwardKernel = (out, x, g, dim) => {
  const xd = storageOf(x);
  const gd = storageOf(g);
  const o = storageOf(out);
  const { outer, n, inner } = aroundDim(x.shape, dim);
  for (let p = 0; p < outer; p++) {
    for (let q = 0; q < inner; q++) {
      const s = p * n * inner + q;
      let before = 1; // prod_{k < i} x_k
      for (let i = 0; i < n; i++) {
        let prod = before;
        let acc = 0;
        for (let j = i; j < n; j++) {
          if (j > i) prod *= xd[x.offset + s + j * inner];
          acc += gd[g.offset + s + j * inner] * prod;
        }
        o[s + i * inner] = acc;
        before *= xd[x.offset + s + i * inner];
      }
    }
  }
};

/** out = softmax (or log-softmax) of contiguous `src` along `dim`, stably, per row in float64. */
export type SoftmaxKernel = (out: Tensor, src: Tensor, dim: number, log: boolean) => void;
const softmax: SoftmaxKernel = (out, src, dim, log) => {
  const a = storageOf(src);
  const base = src.offset;
  const o = storageOf(out);
  const { outer, n, inner } = aroundDim(src.shape, dim);
  if (inner === 1 && n > 0 && nativeSoftmaxRows(log, o, a, base, outer, n)) return;
  for (let p = 0; p < outer; p++) {
    for (let q = 0; q < inner; q++) {
      const s = p * n * inner + q;
      let m = -Infinity;
      for (let i = 0; i < n; i++) {
        const v = a[base + s + i * inner];
        if (v > m || v !== v) m = v;
      }
      if (m === -Infinity) m = 0;
      let z = 0;
      for (let i = 0; i < n; i++) z += Math.exp(a[base + s + i * inner] - m);
      if (log) {
        const lz = m + Math.log(z);
        for (let i = 0; i < n; i++) o[s + i * inner] = a[base + s + i * inner] - lz;
      } else {
        const inv = 1 / z;
        for (let i = 0; i < n; i++) o[s + i * inner] = Math.exp(a[base + s + i * inner] - m) * inv;
      }
    }
  }
};

registerKernel('triangle', 'cpu', triangle);
registerKernel('scan', 'cpu', scan);
registerKernel('cumprodBackward', 'cpu', cumprodBackward);
registerKernel('softmax', 'cpu', softmax);
