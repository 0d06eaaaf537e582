/** Seeded inputs for the Titans linear-memory tests. */
import type { TitansLinearInputs } from '../../src/kernels/index.js';
import { normalizeRows, randArray, rng } from './helpers.js';

export type TitansGateMode = 'random' | 'alpha0' | 'alpha1' | 'eta0' | 'theta0' | 'mixed';

export function makeTitansInputs(
  seed: number,
  B: number,
  T: number,
  H: number,
  dk: number,
  dv: number,
  gates: TitansGateMode = 'random',
): TitansLinearInputs<Float64Array> {
  const r = rng(seed);
  const n = B * T * H;
  const x = {
    q: randArray(n * dk, r),
    k: normalizeRows(randArray(n * dk, r), dk),
    v: randArray(n * dv, r),
    theta: randArray(n, r, (u) => 0.5 * Math.abs(u)),
    eta: randArray(n, r, (u) => 0.5 + 0.5 * Math.abs(u)),
    alpha: randArray(n, r, (u) => 0.2 * Math.abs(u)),
    m0: randArray(B * H * dv * dk, r, (u) => 0.5 * u),
    s0: randArray(B * H * dv * dk, r, (u) => 0.2 * u),
    shape: { batch: B, seqLen: T, heads: H, dk, dv },
  };
  if (gates === 'alpha0') x.alpha.fill(0);
  if (gates === 'alpha1') x.alpha.fill(1);
  if (gates === 'eta0') x.eta.fill(0);
  if (gates === 'theta0') x.theta.fill(0);
  if (gates === 'mixed') {
    for (let i = 0; i < n; i += 3) x.alpha[i] = 1;
    for (let i = 1; i < n; i += 4) x.eta[i] = 0;
    for (let i = 2; i < n; i += 5) x.theta[i] = 0;
  }
  return x;
}
