/**
 * The CPU backend: JS kernels generated per op (small tensors, int32, mixed dtypes) and the addon's
 * threaded SIMD kernels (float tensors of >= 512 elements; see src/kernels/native-ops.ts), GEMM
 * through `native.gemm`, buffers from the recycling pool.
 */
import { native } from '@nl/native';
import type { Backend } from '../device.js';
import { binaryKernel, copyKernel, unaryKernel } from '../kernels/elementwise.js';
import { BINARY_EXPR, UNARY_EXPR } from '../kernels/exprs.js';
import { reduceKernel } from '../kernels/reduce.js';
import { takeBuffer } from '../pool.js';

type Float = Float32Array | Float64Array;

export const cpuBackend: Backend = {
  name: 'cpu',
  allocate: (dtype, n, zero = true) => takeBuffer(dtype, n, zero),
  binary(op, out, shape, a, b) {
    const expr = BINARY_EXPR[op];
    if (expr === undefined) throw new Error(`cpu backend: unknown binary op '${op}'`);
    binaryKernel(op, expr, out, shape, a, b);
  },
  unary(op, out, shape, a, p0 = 0, p1 = 0) {
    const expr = UNARY_EXPR[op];
    if (expr === undefined) throw new Error(`cpu backend: unknown unary op '${op}'`);
    unaryKernel(op, expr, out, shape, a, p0, p1);
  },
  copy: (out, shape, a) => copyKernel(out, shape, a),
  reduce: (op, out, data, offset, shape, strides, dims, correction) =>
    reduceKernel(op, out, data, offset, shape, strides, dims, correction),
  gemm(tA, tB, m, n, k, alpha, a, ao, lda, sa, b, bo, ldb, sb, beta, c, co, ldc, sc, batch) {
    native.gemm(
      tA,
      tB,
      m,
      n,
      k,
      alpha,
      a as Float,
      ao,
      lda,
      sa,
      b as Float,
      bo,
      ldb,
      sb,
      beta,
      c as Float,
      co,
      ldc,
      sc,
      batch,
    );
  },
};
