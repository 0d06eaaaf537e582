/**
 * Training-loss comparison for the optim suite: one small MLP regression (8 → 64 tanh → 1,
 * 256 fixed samples, f32, manual backprop on typed arrays), the same init and seed for every
 * optimizer; returns loss curves and an ASCII plot (log10 loss vs step).
 */
import { paramFromArrays, type ArrayParam } from '@nl/optim';

/** Deterministic approximately-normal generator (sum of 4 uniforms). */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  const u = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => u() + u() + u() + u() - 2;
}

/** The regression task and model; `lossAndGrad()` fills every param's gradView. */
export function makeMlp(seed: number, D = 8, H = 64, N = 256) {
  const r = seeded(seed);
  const X = Float32Array.from({ length: N * D }, () => r());
  const Y = Float32Array.from(
    { length: N },
    (_, n) => Math.sin(X[n * D]!) * Math.cos(X[n * D + 1]!) + 0.3 * X[n * D + 2]! ** 2,
  );
  const mk = (shape: number[], std: number): ArrayParam => {
    const n = shape.reduce((a, b) => a * b, 1);
    return paramFromArrays(
      Float32Array.from({ length: n }, () => r() * std),
      new Float32Array(n),
      shape,
    );
  };
  const W1 = mk([H, D], 1 / Math.sqrt(D)),
    b1 = mk([H], 0),
    W2 = mk([1, H], 1 / Math.sqrt(H)),
    b2 = mk([1], 0);
  const h = new Float64Array(H);
  const lossAndGrad = (): number => {
    for (const p of [W1, b1, W2, b2]) p.gradView!.fill(0);
    let loss = 0;
    for (let n = 0; n < N; n++) {
      for (let j = 0; j < H; j++) {
        let z = b1.view[j]!;
        for (let k = 0; k < D; k++) z += W1.view[j * D + k]! * X[n * D + k]!;
        h[j] = Math.tanh(z);
      }
      let y = b2.view[0]!;
      for (let j = 0; j < H; j++) y += W2.view[j]! * h[j]!;
      const e = y - Y[n]!;
      loss += (e * e) / N;
      const dy = (2 * e) / N;
      b2.gradView![0] = b2.gradView![0]! + dy;
      for (let j = 0; j < H; j++) {
        W2.gradView![j] = W2.gradView![j]! + dy * h[j]!;
        const dz = dy * W2.view[j]! * (1 - h[j]! * h[j]!);
        b1.gradView![j] = b1.gradView![j]! + dz;
        for (let k = 0; k < D; k++) W1.gradView![j * D + k] = W1.gradView![j * D + k]! + dz * X[n * D + k]!;
      }
    }
    return loss;
  };
  return { W1, b1, W2, b2, lossAndGrad };
}

/** log10-loss curves as an ASCII chart (one letter per series). */
export function asciiPlot(
  series: Array<{ label: string; mark: string; values: number[] }>,
  width = 60,
  height = 14,
): string {
  const logs = series.map((s) => s.values.map((v) => Math.log10(Math.max(v, 1e-12))));
  const all = logs.flat();
  const lo = Math.min(...all),
    hi = Math.max(...all);
  const grid = Array.from({ length: height }, () => Array<string>(width).fill(' '));
  logs.forEach((vals, si) => {
    const mark = series[si]!.mark;
    for (let c = 0; c < width; c++) {
      const v = vals[Math.floor((c * vals.length) / width)]!;
      const y = height - 1 - Math.round(((v - lo) / (hi - lo || 1)) * (height - 1));
      const row = grid[y]!;
      row[c] = row[c] === ' ' ? mark : '*';
    }
  });
  const lines = grid.map(
    (row, k) => `${(hi - ((hi - lo) * k) / (height - 1)).toFixed(2).padStart(6)} |${row.join('')}`,
  );
  lines.push(`${' '.repeat(7)}+${'-'.repeat(width)} step →`);
  lines.push(
    `${' '.repeat(8)}${series.map((s) => `${s.mark} = ${s.label}`).join(', ')}, * = overlap; y = log10(loss)`,
  );
  return lines.join('\n');
}
