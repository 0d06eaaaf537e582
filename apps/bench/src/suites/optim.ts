/**
 * optim suite: @nl/optim step time per million parameters (fused/native vs TypeScript
 * reference where both exist), Newton–Schulz GFLOP/s on the native GEMM, and a short
 * training-loss comparison of AdamW, Muon, M3 and DMGD on the same MLP and seed (table + plot).
 */
import {
  AdamW,
  DeltaMomentum,
  DMGD,
  M3,
  Muon,
  newtonSchulz,
  paramFromArrays,
  SGD,
  type Optimizer,
  type ParamLike,
} from '@nl/optim';
import { measure, type Row } from '../harness.js';
import { asciiPlot, makeMlp, seeded } from './optim-train.js';

export interface OptimSuiteOptions {
  /** square matrices [side, side] × count per step-time case */
  side: number;
  count: number;
  nsShapes: Array<[number, number]>;
  trainSteps: number;
  timeMs: number;
}

function makeParams(side: number, count: number): ParamLike[] {
  const r = seeded(7);
  return Array.from({ length: count }, () =>
    paramFromArrays(
      Float32Array.from({ length: side * side }, () => r()),
      Float32Array.from({ length: side * side }, () => r() * 1e-2),
      [side, side],
    ),
  );
}

const STEP_CASES: Array<[string, string, (p: ParamLike[]) => Optimizer<object>]> = [
  ['SGD momentum', 'ts', (p) => new SGD(p, { lr: 1e-3, momentum: 0.9 }) as never],
  ['AdamW', 'ts (reference)', (p) => new AdamW(p, { lr: 1e-5 }) as never],
  ['AdamW', 'fused native', (p) => new AdamW(p, { lr: 1e-5, fused: true }) as never],
  ['Muon', 'reference NS (f64 loops)', (p) => new Muon(p, { lr: 1e-5, impl: 'reference' }) as never],
  ['Muon', 'native NS (GEMM)', (p) => new Muon(p, { lr: 1e-5 }) as never],
  ['M3', 'native NS (GEMM)', (p) => new M3(p, { lr: 1e-5 }) as never],
  [
    'DeltaMomentum',
    'ts (reference loops)',
    (p) => new DeltaMomentum(p, { lr: 1e-5, impl: 'reference' }) as never,
  ],
  ['DeltaMomentum', 'native GEMM', (p) => new DeltaMomentum(p, { lr: 1e-5 }) as never],
  ['DMGD', 'ts', (p) => new DMGD(p, { lr: 1e-5 }) as never],
];

async function stepRows(o: OptimSuiteOptions): Promise<Row[]> {
  const rows: Row[] = [];
  const mparams = (o.side * o.side * o.count) / 1e6;
  const refRate = new Map<string, number>();
  for (const [name, impl, ctor] of STEP_CASES) {
    if (impl.startsWith('reference') && o.side > 256) continue; // float64 loop NS: minutes at 512²+
    const opt = ctor(makeParams(o.side, o.count));
    const m = await measure(() => opt.step(), { timeMs: o.timeMs, iterations: 3 });
    const msPerM = m.medianMs / mparams;
    const rate = 1000 / msPerM; // Mparams per second
    if (impl.startsWith('ts') || impl.startsWith('reference')) refRate.set(name, rate);
    const ref = refRate.get(name);
    rows.push({
      suite: 'optim',
      case: `${name} step, ${o.count}×[${o.side},${o.side}] f32`,
      impl,
      rate,
      unit: 'Mparam/s',
      medianMs: m.medianMs,
      ratio: ref ? rate / ref : null,
      note: `${msPerM.toFixed(2)} ms per 1M params`,
    });
  }
  return rows;
}

async function nsRows(o: OptimSuiteOptions): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [rowsN, cols] of o.nsShapes) {
    const r = seeded(rowsN + cols);
    const g = Float32Array.from({ length: rowsN * cols }, () => r());
    const out = new Float32Array(g.length);
    const m = await measure(() => newtonSchulz(g, rowsN, cols, { out }), { timeMs: o.timeMs, iterations: 2 });
    const a = Math.min(rowsN, cols),
      n = Math.max(rowsN, cols);
    const flops = 5 * (4 * a * a * n + 2 * a * a * a);
    rows.push({
      suite: 'optim',
      case: `Newton–Schulz 5 steps ${rowsN}×${cols} f32`,
      impl: 'native GEMM',
      rate: flops / (m.medianMs * 1e6),
      unit: 'GFLOP/s',
      medianMs: m.medianMs,
    });
  }
  return rows;
}

function trainRows(o: OptimSuiteOptions): Row[] {
  const runs: Array<[string, string, (m: ReturnType<typeof makeMlp>) => Optimizer<object>]> = [
    ['AdamW', 'A', (m) => new AdamW([m.W1, m.b1, m.W2, m.b2], { lr: 1e-2, weightDecay: 0 }) as never],
    [
      'Muon',
      'U',
      (m) =>
        new Muon([{ params: [m.W1] }, { params: [m.b1, m.W2, m.b2], useMuon: false }], {
          lr: 0.02,
          adamLr: 1e-2,
        }) as never,
    ],
    ['M3', '3', (m) => new M3([m.W1, m.b1, m.W2, m.b2], { lr: 1e-2, frequency: 10 }) as never],
    ['DMGD', 'D', (m) => new DMGD([m.W1, m.b1, m.W2, m.b2], { lr: 0.1, hidden: 16, innerLr: 0.05 }) as never],
  ];
  const curves = runs.map(([name, mark, mk]) => {
    const m = makeMlp(42);
    const opt = mk(m);
    const losses: number[] = [];
    for (let t = 0; t < o.trainSteps; t++) {
      losses.push(m.lossAndGrad());
      opt.step();
    }
    return { label: name, mark, values: losses };
  });
  const marks = [0, 10, 50, 100, 200, o.trainSteps - 1].filter(
    (s, i, a) => s < o.trainSteps && a.indexOf(s) === i,
  );
  console.log(`\nMLP regression 8→64→1 (tanh), 256 samples, f32, seed 42 — loss at step:`);
  console.log(['optimizer'.padEnd(10), ...marks.map((s) => String(s).padStart(9))].join(' '));
  for (const c of curves)
    console.log([c.label.padEnd(10), ...marks.map((s) => c.values[s]!.toPrecision(3).padStart(9))].join(' '));
  console.log(asciiPlot(curves));
  return curves.map((c) => ({
    suite: 'optim',
    case: `MLP regression final loss (${o.trainSteps} steps)`,
    impl: c.label,
    rate: c.values[c.values.length - 1]!,
    unit: 'loss (lower=better)',
    medianMs: null,
    note: `loss ${c.values[c.values.length - 1]!.toPrecision(4)} (from ${c.values[0]!.toPrecision(4)})`,
  }));
}

/** Runs the whole optim suite. */
export async function optimSuite(o: OptimSuiteOptions): Promise<Row[]> {
  return [...(await stepRows(o)), ...(await nsRows(o)), ...trainRows(o)];
}
