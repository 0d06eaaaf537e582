/**
 * Newton–Schulz on tensors, on their device. A backend that registers `optim.newtonSchulz` runs
 * it as one kernel (the CPU's is the native batched call `newtonSchulz` uses, so CPU numbers are
 * those of the host path); any other backend gets the same iteration composed of tensor ops,
 * whose three batched products per step run on the backend's 'gemm' kernel — a CUDA backend
 * needs nothing optimizer-specific for it.
 */
import { copy_, noGrad, tidy, type Tensor } from '@nl/tensor';
import { hasKernel, runKernel } from '@nl/tensor/internal';
import { NS_COEFFS } from './newton_schulz.js';
import { OPTIM_KERNELS, type NewtonSchulzKernel } from './kernels/types.js';
import './kernels/muon.js';

/** Options of `newtonSchulzTensor`. */
export interface NewtonSchulzTensorOptions {
  /** iterations (default 5) */
  steps?: number;
  /** output tensor (x's shape, dtype and device); may be x itself */
  out?: Tensor;
  /**
   * true: the device's `optim.newtonSchulz` kernel; false: tensor ops on the device's GEMM;
   * default: the kernel when the device has one
   */
  useKernel?: boolean;
}

/**
 * Batched Newton–Schulz of x ([rows, cols] or [batch, rows, cols]) on x's device, in x's dtype.
 * Reads nothing back to the host.
 * @returns the orthogonalised matrices (the `out` tensor when given, else a new tensor)
 */
export function newtonSchulzTensor(x: Tensor, opts: NewtonSchulzTensorOptions = {}): Tensor {
  const steps = opts.steps ?? 5;
  if (!Number.isInteger(steps) || steps < 0)
    throw new RangeError(`newtonSchulzTensor: steps must be an integer >= 0, got ${steps}`);
  if (x.ndim !== 2 && x.ndim !== 3)
    throw new RangeError(`newtonSchulzTensor: expected [rows, cols] or [batch, rows, cols], got ${x.ndim}-D`);
  if (x.dtype !== 'float32' && x.dtype !== 'float64')
    throw new TypeError(`newtonSchulzTensor: expected float32 or float64, got ${x.dtype}`);
  const [batch, rows, cols] =
    x.ndim === 2 ? [1, x.shape[0]!, x.shape[1]!] : (x.shape as [number, number, number]);
  const out = opts.out;
  if (out && (out.device !== x.device || out.dtype !== x.dtype || out.numel !== x.numel))
    throw new TypeError('newtonSchulzTensor: out must have the input shape, dtype and device');
  return noGrad(() => {
    if (opts.useKernel ?? hasKernel(OPTIM_KERNELS.newtonSchulz, x.device)) {
      const dst = out ?? x.clone();
      if (dst !== x) copy_(dst, x);
      runKernel<NewtonSchulzKernel>(OPTIM_KERNELS.newtonSchulz, x.device, dst, rows, cols, steps);
      return dst;
    }
    const y = tidy(() => newtonSchulzOps(x.reshape([batch, rows, cols]), steps).reshape(x.shape));
    if (!out) return y;
    copy_(out, y);
    y.dispose();
    return out;
  });
}

/** The iteration as tensor ops: X = G/(‖G‖_F + 1e-7) (transposed when rows > cols), then
 *  `steps` times A = XXᵀ, B = bA + cA², X = aX + BX. */
function newtonSchulzOps(g: Tensor, steps: number): Tensor {
  const [a, b, c] = NS_COEFFS;
  const tr = g.shape[1]! > g.shape[2]!;
  let x = tr ? g.transpose(1, 2) : g;
  x = x.div(x.mul(x).sum([1, 2], true).sqrt().add(1e-7));
  for (let s = 0; s < steps; s++) {
    const A = x.matmul(x.transpose(1, 2));
    const B = A.mul(b).add(A.matmul(A).mul(c));
    x = x.mul(a).add(B.matmul(x));
  }
  return (tr ? x.transpose(1, 2) : x).contiguous();
}
