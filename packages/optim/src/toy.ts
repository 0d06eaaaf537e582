/**
 * The NL paper's curvature toy (§2, Eq. 53): ψ(r, θ) = r² + k (r − θ + α sin(ωr))², minimised
 * from (r, θ) = (−3.5, 2); used to compare momentum with delta momentum (README, bench, tests).
 */
import { DeltaMomentum } from './delta_momentum.js';
import { PreconditionedMomentum } from './preconditioned.js';
import { paramFromArrays } from './param.js';

/** Toy constants (the paper does not print k, α, ω; these are our choice). */
export interface ToyConfig {
  k: number;
  alpha: number;
  omega: number;
  lr: number;
  momentum: number;
  erase: number;
  steps: number;
}

export const TOY_DEFAULTS: ToyConfig = {
  k: 10,
  alpha: 1,
  omega: 2,
  lr: 0.005,
  momentum: 0.9,
  erase: 0.5,
  steps: 200,
};

/** ψ and its gradient at (r, θ). */
export function psi(
  r: number,
  th: number,
  c: Pick<ToyConfig, 'k' | 'alpha' | 'omega'>,
): { f: number; dr: number; dth: number } {
  const u = r - th + c.alpha * Math.sin(c.omega * r);
  return {
    f: r * r + c.k * u * u,
    dr: 2 * r + 2 * c.k * u * (1 + c.alpha * c.omega * Math.cos(c.omega * r)),
    dth: -2 * c.k * u,
  };
}

/**
 * Runs momentum (erase 0) or delta momentum from (−3.5, 2).
 * @returns ψ after every step (length `steps`)
 */
export function runToy(kind: 'momentum' | 'delta', cfg: Partial<ToyConfig> = {}): number[] {
  const c = { ...TOY_DEFAULTS, ...cfg };
  const x = Float64Array.from([-3.5, 2]);
  const g = new Float64Array(2);
  const p = paramFromArrays(x, g, [2]);
  const opt =
    kind === 'delta'
      ? new DeltaMomentum([p], { lr: c.lr, momentum: c.momentum, erase: c.erase })
      : new PreconditionedMomentum([p], { lr: c.lr, momentum: c.momentum });
  const out: number[] = [];
  for (let t = 0; t < c.steps; t++) {
    const v = psi(x[0]!, x[1]!, c);
    g[0] = v.dr;
    g[1] = v.dth;
    opt.step();
    out.push(psi(x[0]!, x[1]!, c).f);
  }
  return out;
}
