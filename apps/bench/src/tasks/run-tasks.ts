/**
 * `pnpm bench --suite tasks`: the memory tasks of the paper's claims (today MQAR) for the tiny
 * models, several seeds; prints a table, writes results/tasks-<timestamp>.json and .md.
 * `--quick` is the CI budget (a few steps: checks the plumbing, not the models).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runMqar, tinyModels, type MqarResult } from './mqar.js';

/** Budget of a tasks run. */
export interface TasksBudget {
  steps: number;
  batch: number;
  lr: number;
  seeds: number[];
  pairs: number[];
  evalSequences: number;
  evalEvery?: number;
  /** Model names to run (default: all tiny models). */
  models?: string[];
}

export const QUICK_TASKS: TasksBudget = {
  steps: 3,
  batch: 4,
  lr: 1e-3,
  seeds: [0],
  pairs: [2],
  evalSequences: 8,
};
export const FULL_TASKS: TasksBudget = {
  steps: 1500,
  batch: 16,
  lr: 1e-3,
  seeds: [0, 1, 2],
  pairs: [4],
  evalSequences: 256,
  evalEvery: 250,
};

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]) => {
  const m = mean(xs);
  return xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : 0;
};

/** Markdown table: one row per (model, pairs), accuracy mean ± std over seeds. */
export function mqarMarkdown(results: MqarResult[]): string {
  const keys = [...new Set(results.map((r) => `${r.model}\u0000${r.pairs}`))];
  const lines = [
    '| model | params | pairs | seq len | steps | seeds | accuracy (mean ± std) |',
    '|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const key of keys) {
    const [model, pairs] = key.split('\u0000');
    const rs = results.filter((r) => r.model === model && String(r.pairs) === pairs);
    const acc = rs.map((r) => 100 * r.accuracy);
    const r0 = rs[0]!;
    lines.push(
      `| ${model} | ${r0.params.toLocaleString('en-US')} | ${pairs} | ${r0.seqLen} | ${r0.steps} | ${rs.length} | ${mean(acc).toFixed(1)} ± ${std(acc).toFixed(1)}% |`,
    );
  }
  return lines.join('\n');
}

/** Runs the tasks under `budget`, writes the JSON and markdown under `outDir`; returns the results. */
export function runTasks(
  budget: TasksBudget,
  outDir: string,
  log: (s: string) => void = console.log,
): MqarResult[] {
  const results: MqarResult[] = [];
  for (const pairs of budget.pairs) {
    for (const seed of budget.seeds) {
      for (const model of tinyModels(seed)) {
        if (budget.models !== undefined && !budget.models.includes(model.name)) continue;
        const r = runMqar({
          model,
          task: { pairs },
          steps: budget.steps,
          batch: budget.batch,
          lr: budget.lr,
          seed,
          evalSequences: budget.evalSequences,
          evalEvery: budget.evalEvery,
        });
        log(
          `mqar pairs ${pairs} seed ${seed} ${model.name}: accuracy ${(100 * r.accuracy).toFixed(1)}% (loss ${r.finalLoss.toFixed(3)}, ${r.seconds.toFixed(0)} s)`,
        );
        results.push(r);
      }
    }
  }
  const md = mqarMarkdown(results);
  log(`\n${md}`);
  const dir = resolve(outDir);
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  writeFileSync(join(dir, `tasks-${stamp}.json`), JSON.stringify({ budget, results }, null, 2));
  writeFileSync(
    join(dir, `tasks-${stamp}.md`),
    `# MQAR (answer-only loss, AdamW lr ${budget.lr})\n\n${md}\n`,
  );
  log(`\nwrote ${join(dir, `tasks-${stamp}.json`)} and .md`);
  return results;
}
