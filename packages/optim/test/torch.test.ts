// SGD / Adam / AdamW trajectories equal torch.optim's (fixtures from tools/fixtures/gen_optim_fixtures.py, float64).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Adam, AdamW, SGD } from '../src/index.js';
import { paramFromArrays } from '../src/param.js';

interface Fixture {
  A: number[][];
  b: number[];
  x0: number[];
  sinCoef: number;
  steps: number;
  cases: Array<{
    optimizer: 'SGD' | 'Adam' | 'AdamW';
    options: Record<string, unknown>;
    trajectory: number[][];
  }>;
}
const fx = JSON.parse(
  readFileSync(new URL('./fixtures/torch_optim.json', import.meta.url), 'utf8'),
) as Fixture;
const CTORS = { SGD, Adam, AdamW };

describe('torch.optim trajectories', () => {
  const variants = fx.cases.flatMap((c) =>
    c.optimizer === 'SGD' ? [c] : [c, { ...c, options: { ...c.options, fused: true } }],
  );
  for (const c of variants) {
    it(`${c.optimizer} ${JSON.stringify(c.options)}`, () => {
      const x = Float64Array.from(fx.x0);
      const g = new Float64Array(x.length);
      const p = paramFromArrays(x, g);
      const opt = new CTORS[c.optimizer]([p], c.options as never);
      let worst = 0;
      for (let s = 0; s < fx.steps; s++) {
        for (let i = 0; i < x.length; i++) {
          let acc = -fx.b[i]! + fx.sinCoef * Math.sin(x[i]!);
          for (let j = 0; j < x.length; j++) acc += fx.A[i]![j]! * x[j]!;
          g[i] = acc;
        }
        opt.step();
        c.trajectory[s]!.forEach(
          (v, i) => (worst = Math.max(worst, Math.abs(v - x[i]!) / (1 + Math.abs(v)))),
        );
      }
      expect(worst).toBeLessThan(1e-12);
      // the trajectory actually moved (guards against a no-op optimizer matching a no-op fixture)
      expect(Math.abs(c.trajectory[fx.steps - 1]![0]! - fx.x0[0]!)).toBeGreaterThan(1e-3);
    });
  }
});
