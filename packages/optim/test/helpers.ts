// Test helpers: a seeded RNG and tiny quadratic / MLP problems on typed arrays.
/** Mulberry32 → approximately normal(0,1) via the sum of uniforms (deterministic). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  const u = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => u() + u() + u() + u() - 2;
}

import { paramFromArrays, type ArrayParam } from '../src/param.js';

/** Quadratic problem: loss = 0.5 Σ c_i (x_i − t_i)² over a [4, 6] matrix and a [6] vector. */
export function quadratic(
  seed: number,
  Ctor: Float32ArrayConstructor | Float64ArrayConstructor = Float64Array,
) {
  const r = rng(seed);
  const shapes = [[4, 6], [6]];
  const params: ArrayParam[] = shapes.map((s) => {
    const n = s.reduce((a, b) => a * b, 1);
    return paramFromArrays(Ctor.from(Array.from({ length: n }, () => r())), new Ctor(n), s);
  });
  const targets = params.map((p) => Float64Array.from(p.view, () => r()));
  const curv = params.map((p) => Float64Array.from(p.view, () => 0.5 + Math.abs(r())));
  const loss = () => {
    let l = 0;
    params.forEach((p, k) =>
      p.view.forEach((x, i) => (l += 0.5 * curv[k]![i]! * (x - targets[k]![i]!) ** 2)),
    );
    return l;
  };
  const grad = () =>
    params.forEach((p, k) =>
      p.view.forEach((x, i) => (p.gradView![i] = curv[k]![i]! * (x - targets[k]![i]!))),
    );
  return { params, loss, grad };
}

/** Tiny MLP regression y = sin(x0) + 0.5 x1² through 2→16→1 tanh, manual backprop, fixed batch. */
export function mlpRegression(seed: number) {
  const r = rng(seed);
  const H = 16,
    N = 64;
  const X = Float64Array.from({ length: N * 2 }, () => r());
  const Y = Float64Array.from({ length: N }, (_, n) => Math.sin(X[2 * n]!) + 0.5 * X[2 * n + 1]! ** 2);
  const mk = (shape: number[], std: number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return paramFromArrays(
      Float64Array.from({ length: n }, () => r() * std),
      new Float64Array(n),
      shape,
    );
  };
  const W1 = mk([H, 2], 0.7),
    b1 = mk([H], 0),
    W2 = mk([1, H], 0.25),
    b2 = mk([1], 0);
  const params = [W1, b1, W2, b2];
  const lossAndGrad = (withGrad = true) => {
    if (withGrad) params.forEach((p) => p.gradView!.fill(0));
    let loss = 0;
    const h = new Float64Array(H);
    for (let n = 0; n < N; n++) {
      for (let j = 0; j < H; j++)
        h[j] = Math.tanh(W1.view[2 * j]! * X[2 * n]! + W1.view[2 * j + 1]! * X[2 * n + 1]! + b1.view[j]!);
      let y = b2.view[0]!;
      for (let j = 0; j < H; j++) y += W2.view[j]! * h[j]!;
      const e = y - Y[n]!;
      loss += (e * e) / N;
      if (!withGrad) continue;
      const dy = (2 * e) / N;
      b2.gradView![0]! += dy;
      for (let j = 0; j < H; j++) {
        W2.gradView![j]! += dy * h[j]!;
        const dz = dy * W2.view[j]! * (1 - h[j]! * h[j]!);
        b1.gradView![j]! += dz;
        W1.gradView![2 * j]! += dz * X[2 * n]!;
        W1.gradView![2 * j + 1]! += dz * X[2 * n + 1]!;
      }
    }
    return loss;
  };
  return { params, lossAndGrad };
}
