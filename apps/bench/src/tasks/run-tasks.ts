/**
 * `pnpm bench --suite tasks [--task <names...>] [--seeds N] [--quick]`: the paper's-claims task
 * families (tasks/README in apps/bench/README.md) for the compared models; each family prints its
 * table and writes results/tasks/<family>.{json,md,svg,png}. `--quick` is the CI budget (a few
 * steps: checks the plumbing, not the models).
 */
import { ablationFamily } from './ablation.js';
import { continualFamily } from './continual.js';
import { formalFamily } from './formal.js';
import { madFamily } from './mad.js';
import { mqarFamily } from './mqar.js';
import { niahFamily } from './niah.js';
import { writeTaskReport } from './report.js';
import { reportMarkdown } from './report.js';
import type { TaskFamily, TaskReport, TaskRunOptions } from './types.js';

/** Every family the suite runs, in order. */
export const TASK_FAMILIES: TaskFamily[] = [
  mqarFamily,
  madFamily,
  formalFamily,
  ablationFamily,
  niahFamily,
  continualFamily,
];

export interface TaskSuiteOptions extends Omit<TaskRunOptions, 'log'> {
  /** Families to run (default all). */
  families?: string[];
  outDir: string;
  log?: (line: string) => void;
}

/** Runs the chosen families, writes their reports; returns them. Throws naming unknown families. */
export function runTaskSuite(opts: TaskSuiteOptions): TaskReport[] {
  const log = opts.log ?? console.log;
  const unknown = (opts.families ?? []).filter((f) => !TASK_FAMILIES.some((t) => t.name === f));
  if (unknown.length > 0)
    throw new RangeError(
      `unknown task(s) ${unknown.join(', ')}; available: ${TASK_FAMILIES.map((t) => t.name).join(', ')}`,
    );
  const chosen = opts.families ? TASK_FAMILIES.filter((t) => opts.families!.includes(t.name)) : TASK_FAMILIES;
  const reports: TaskReport[] = [];
  for (const family of chosen) {
    log(`\n== task ${family.name}: ${family.title}`);
    const report = family.run({ quick: opts.quick, seeds: opts.seeds, models: opts.models, log });
    log(`\n${reportMarkdown(report, new Date().toISOString())}`);
    const files = writeTaskReport(report, opts.outDir);
    log(`wrote ${files.join(', ')}`);
    reports.push(report);
  }
  return reports;
}
