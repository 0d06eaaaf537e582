/**
 * Probe (issue 16): why MQAR recall at 4 pairs is lower at gap 0 than at gaps 8–16. Trains one
 * model as `mqar --budget long` does (mixture of 2/4/8 pairs, gaps 0–16, batch 16, lr 2e-3, 1,500
 * steps, alphabet 16) and scores 4 pairs at gaps 0, 1, 2, 4, 8 and 16. If one filler byte brings
 * back the gap-8 score, the gap-0 deficit is the missing marker between the pairs and the queries
 * (at gap 0 a query key looks like one more pair's key), not the recall distance.
 *
 *   node apps/bench/dist/mqar-gap.js <model> <width> <seed> [steps]
 */
import { MQAR_LONG, mqarDraw, mqarRanges, mqarTrainDraw } from '../tasks/mqar.js';
import { comparisonModels, selectModels } from '../tasks/models.js';
import { trainSeqTask } from '../tasks/seq-task.js';

const [name, widthArg, seedArg, stepsArg] = process.argv.slice(2);
const width = Number(widthArg);
const seed = Number(seedArg ?? 0);
const steps = Number(stepsArg ?? MQAR_LONG.steps);
if (name === undefined || !Number.isInteger(width) || width < 1 || !Number.isInteger(seed) || !(steps >= 1)) {
  console.error('usage: mqar-gap <model> <width> <seed> [steps]   (e.g. transformer 32 0)');
  process.exit(2);
}
const ranges = mqarRanges(MQAR_LONG.alphabet);
const train = mqarTrainDraw(MQAR_LONG);
const gaps = [0, 1, 2, 4, 8, 16];
const [model] = selectModels(
  comparisonModels(seed, { overrides: { dim: width }, withHopeLive: true, withHopeValueStream: true }),
  [name],
);
const res = trainSeqTask({
  model: model!,
  train,
  steps,
  batch: MQAR_LONG.batch,
  lr: MQAR_LONG.lr,
  seed,
  evals: gaps.map((gap) => ({
    name: `gap ${gap}`,
    x: gap,
    draw: mqarDraw({ pairs: MQAR_LONG.lengthPairs, ...ranges, gap }),
    n: 2 * MQAR_LONG.evalSequences,
  })),
});
console.log(
  `${name} d ${width} seed ${seed}, ${steps} steps, recall at ${MQAR_LONG.lengthPairs} pairs: ` +
    res.scores.map((s) => `${s.name} ${(100 * s.tokenAccuracy).toFixed(1)}%`).join(', '),
);
