/**
 * MQAR (multi-query associative recall, Zoology) as a task family: each model is trained from
 * scratch on `multiQueryRecall` sequences (loss on the answers only: pairs and queries are random,
 * so a loss on every position is dominated by what cannot be predicted) and scored on held-out
 * sets, sweeping the number of key–value pairs. Chance is 1/64 (values come from 64 byte ids).
 */
import { multiQueryRecall, type MqarOptions, type Rng } from '@nl/hope';
import { comparisonModels, selectModels } from './models.js';
import { packExamples, trainSeqTask } from './seq-task.js';
import type { SeqDraw, TaskFamily, TaskReport, TaskRow, TaskRunOptions } from './types.js';

/** A draw of MQAR sequences with these options. */
export function mqarDraw(task: MqarOptions): SeqDraw {
  return (rng: Rng, n: number) => packExamples(Array.from({ length: n }, () => multiQueryRecall(rng, task)));
}

/** Budget of the MQAR family. */
export interface MqarBudget {
  steps: number;
  batch: number;
  lr: number;
  pairs: number[];
  evalSequences: number;
}

export const MQAR_QUICK: MqarBudget = { steps: 3, batch: 4, lr: 1e-3, pairs: [2], evalSequences: 8 };
export const MQAR_FULL: MqarBudget = {
  steps: 1500,
  batch: 16,
  lr: 1e-3,
  pairs: [2, 4, 8],
  evalSequences: 256,
};

export function runMqarFamily(
  opts: TaskRunOptions,
  budget: MqarBudget = opts.quick ? MQAR_QUICK : MQAR_FULL,
): TaskReport {
  const rows: TaskRow[] = [];
  for (const pairs of budget.pairs)
    for (const seed of opts.seeds)
      for (const model of selectModels(comparisonModels(seed), opts.models)) {
        const task = { pairs };
        const r = trainSeqTask({
          model,
          train: mqarDraw(task),
          evals: [{ name: `pairs ${pairs}`, x: pairs, draw: mqarDraw(task), n: budget.evalSequences }],
          steps: budget.steps,
          batch: budget.batch,
          lr: budget.lr,
          seed,
        });
        const s = r.scores[0]!;
        opts.log(
          `mqar pairs ${pairs} seed ${seed} ${model.name}: ${(100 * s.tokenAccuracy).toFixed(1)}% (loss ${r.finalLoss.toFixed(3)}, ${r.seconds.toFixed(0)} s)`,
        );
        rows.push({
          family: 'mqar',
          task: 'mqar',
          model: model.name,
          params: r.params,
          seed,
          metric: 'accuracy',
          value: s.tokenAccuracy,
          x: pairs,
          xLabel: 'pairs',
          steps: r.steps,
          tokens: r.tokens,
          seconds: r.seconds,
          extra: { finalLoss: r.finalLoss, seqLen: s.len },
        });
      }
  return {
    family: 'mqar',
    title: 'MQAR: recall accuracy against the number of pairs',
    protocol: `Multi-query associative recall on byte ids (keys in [128, 192), values in [192, 256)), trained from scratch with AdamW lr ${budget.lr}, batch ${budget.batch}, ${budget.steps} steps, loss on the answers only; accuracy = argmax over all 256 ids on ${budget.evalSequences} held-out sequences. Chance ≈ 1.6%.`,
    rows,
    budget,
  };
}

export const mqarFamily: TaskFamily = { name: 'mqar', title: 'MQAR', run: (o) => runMqarFamily(o) };
