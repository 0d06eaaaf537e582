/**
 * `pnpm bench --suite tasks [--task <names...>] [--seeds N] [--first-seed S] [--widths W...]
 * [--quick | --budget <name>] [--merge]`: the
 * paper's-claims task families (tasks/README in apps/bench/README.md) for the compared models; each
 * family prints its table and writes results/tasks/<family>.{json,md,svg,png}. `--quick` is the CI
 * budget (a few steps: checks the plumbing, not the models); `--budget` names a longer budget of
 * the families that have one (MQAR's 'long').
 */
import { ablationFamily } from './ablation.js';
import { continualFamily } from './continual.js';
import { formalFamily } from './formal.js';
import { madFamily } from './mad.js';
import { mqarFamily } from './mqar.js';
import { niahFamily } from './niah.js';
import { join } from 'node:path';
import { mergeTaskReports, readStoredReport } from './merge.js';
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
  /** Keep the stored report's rows of the models this run does not train (merge.ts). */
  merge?: boolean;
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
  if (opts.budget !== undefined) {
    if (opts.quick) throw new RangeError(`--budget ${opts.budget} and --quick exclude each other`);
    const lacking = chosen.filter((t) => !(t.budgets ?? []).includes(opts.budget!));
    if (lacking.length > 0)
      throw new RangeError(
        `budget '${opts.budget}' is not a budget of ${lacking.map((t) => t.name).join(', ')} (families with one: ${
          TASK_FAMILIES.filter((t) => (t.budgets ?? []).length > 0)
            .map((t) => `${t.name}: ${t.budgets!.join(', ')}`)
            .join('; ') || 'none'
        })`,
      );
  }
  if (opts.widths !== undefined) {
    const fixed = chosen.filter((t) => t.takesWidths !== true);
    if (fixed.length > 0)
      throw new RangeError(
        `--widths: ${fixed.map((t) => t.name).join(', ')} ${fixed.length === 1 ? 'has' : 'have'} no width sweep (families with one: ${TASK_FAMILIES.filter(
          (t) => t.takesWidths === true,
        )
          .map((t) => t.name)
          .join(', ')})`,
      );
  }
  const reports: TaskReport[] = [];
  for (const family of chosen) {
    log(`\n== task ${family.name}: ${family.title}`);
    const report = family.run({
      quick: opts.quick,
      ...(opts.budget === undefined ? {} : { budget: opts.budget }),
      seeds: opts.seeds,
      models: opts.models,
      ...(opts.widths === undefined ? {} : { widths: opts.widths }),
      log,
    });
    const previous =
      opts.merge === true ? readStoredReport(join(opts.outDir, `${report.family}.json`)) : null;
    const merged = previous === null ? report : mergeTaskReports(previous, report, undefined, family.notes);
    log(`\n${reportMarkdown(merged, new Date().toISOString())}`);
    const files = writeTaskReport(merged, opts.outDir);
    log(`wrote ${files.join(', ')}`);
    reports.push(merged);
  }
  return reports;
}
