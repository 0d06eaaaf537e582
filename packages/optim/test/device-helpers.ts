// Device test helpers: the same small problems as helpers.ts, with @nl/tensor parameters on any
// device (gradients by autograd on that device) and the host-array twin of the same values.
import { noGrad, tensor, tidy, type Device, type Tensor } from '@nl/tensor';
import { paramFromArrays, type ArrayParam } from '../src/param.js';
import { rng } from './helpers.js';

export type FloatDType = 'float32' | 'float64';
const ctor = (d: FloatDType) => (d === 'float32' ? Float32Array : Float64Array);

/** Shapes that exercise every branch: same-shape matrices (Muon batches), a vector, a 3-D param. */
export const DEVICE_SHAPES = [[4, 6], [4, 6], [6], [3, 2, 2], [5, 3]];

/** Initial values, targets and curvatures of the device quadratic (host arrays). */
export function quadraticData(seed: number, dtype: FloatDType) {
  const r = rng(seed);
  const fill = (n: number, f: () => number) => {
    const a = new (ctor(dtype))(n);
    for (let i = 0; i < n; i++) a[i] = f();
    return a;
  };
  return DEVICE_SHAPES.map((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return {
      shape,
      values: fill(n, () => r()),
      target: fill(n, () => r()),
      curv: fill(n, () => 0.5 + Math.abs(r())),
    };
  });
}

/**
 * loss = Σ 0.5·c·(x − t)² with parameters on `device`; `backward()` fills p.grad on the device.
 * `values` overrides the initial values (e.g. a snapshot).
 */
export function deviceQuadratic(
  seed: number,
  device: Device,
  dtype: FloatDType,
  values?: ArrayLike<number>[],
) {
  const data = quadraticData(seed, dtype);
  const params: Tensor[] = data.map((d, i) => {
    const init = values ? new (ctor(dtype))(Array.from(values[i]!)) : d.values;
    const t = tensor(init, { shape: d.shape, device });
    t.requiresGrad = true;
    return t;
  });
  const targets = data.map((d) => tensor(d.target, { shape: d.shape, device }));
  const curv = data.map((d) => tensor(d.curv, { shape: d.shape, device }));
  /** forward + backward, accumulating into p.grad; nothing is read back */
  const backward = () =>
    tidy(() => {
      let loss: Tensor | null = null;
      params.forEach((p, i) => {
        const diff = p.sub(targets[i]!);
        const l = diff.mul(diff).mul(curv[i]!).sum().mul(0.5);
        loss = loss === null ? l : loss.add(l);
      });
      loss!.backward();
    });
  const values_ = () => params.map((p) => Array.from(p.dataSync() as Float64Array));
  const dispose = () => [...params, ...targets, ...curv].forEach((t) => t.dispose());
  return { params, backward, values: values_, dispose };
}

/** Host-array twins of the device quadratic's parameters (same initial values), grads zero. */
export function hostTwins(seed: number, dtype: FloatDType): ArrayParam[] {
  return quadraticData(seed, dtype).map((d) =>
    paramFromArrays(d.values.slice(), new (ctor(dtype))(d.values.length), d.shape),
  );
}

/** Copies the tensors' gradients into host twins (test plumbing: a download, outside any step). */
export function copyGrads(from: Tensor[], to: ArrayParam[]): void {
  noGrad(() => from.forEach((p, i) => to[i]!.gradView!.set(p.grad!.dataSync() as Float64Array)));
}
