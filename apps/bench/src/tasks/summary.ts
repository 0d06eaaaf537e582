/**
 * Seeds summarised: rows grouped by (task, metric, x, model), mean ± sample std of `value` over the
 * seeds whose run did not diverge (a non-finite value or final training loss); the diverged seeds
 * are counted, not averaged in (a NaN-logit model's 0% is not a trained model's score).
 */
import type { TaskRow } from './types.js';

export interface SummaryCell {
  task: string;
  metric: string;
  x?: number;
  xLabel?: string;
  model: string;
  params: number;
  /** Over the finite (non-diverged) seeds; NaN when every seed diverged. */
  mean: number;
  std: number;
  seeds: number;
  /** Seeds whose run diverged (left out of mean and std). */
  diverged: number;
  steps: number;
  tokens: number;
}

export const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Sample standard deviation (0 for one value). */
export const std = (xs: number[]): number => {
  const m = mean(xs);
  return xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : 0;
};

/** A row of a diverged run: its value or its final training loss (`extra.finalLoss`) is not finite. */
export function isDiverged(r: TaskRow): boolean {
  const loss = r.extra?.finalLoss;
  return !Number.isFinite(r.value) || (typeof loss === 'number' && !Number.isFinite(loss));
}

/** Groups rows in first-seen order and summarises each group over its seeds. */
export function summarise(rows: TaskRow[]): SummaryCell[] {
  const groups = new Map<string, TaskRow[]>();
  for (const r of rows) {
    const key = [r.task, r.metric, r.x ?? '', r.model].join('\u0000');
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  return [...groups.values()].map((g) => {
    const r0 = g[0]!;
    const vs = g.filter((r) => !isDiverged(r)).map((r) => r.value);
    return {
      task: r0.task,
      metric: r0.metric,
      ...(r0.x === undefined ? {} : { x: r0.x, xLabel: r0.xLabel ?? 'x' }),
      model: r0.model,
      params: r0.params,
      mean: vs.length === 0 ? NaN : mean(vs),
      std: vs.length === 0 ? NaN : std(vs),
      seeds: g.length,
      diverged: g.length - vs.length,
      steps: r0.steps,
      tokens: r0.tokens,
    };
  });
}

/** A value for a table: accuracies in %, the rest with 3 decimals. */
export function formatValue(metric: string, v: number): string {
  return metric.includes('accuracy') ? (100 * v).toFixed(1) : v.toFixed(3);
}

/** "mean ± std" (+ " (k of n diverged)"); "diverged (n of n)" when no seed is left. */
function cellValue(c: SummaryCell, unit: string): string {
  if (c.diverged === c.seeds) return `diverged (${c.seeds} of ${c.seeds})`;
  const v = `${formatValue(c.metric, c.mean)} ± ${formatValue(c.metric, c.std)}${unit}`;
  return c.diverged === 0 ? v : `${v} (${c.diverged} of ${c.seeds} diverged)`;
}

/** Markdown table of the summary: one row per (task, metric, x, model). */
export function summaryMarkdown(cells: SummaryCell[]): string {
  const hasX = cells.some((c) => c.x !== undefined);
  const head = ['task', 'metric', ...(hasX ? ['x'] : []), 'model', 'params', 'steps', 'seeds', 'mean ± std'];
  const lines = [
    `| ${head.join(' | ')} |`,
    `|${head.map((h) => (h === 'task' || h === 'metric' || h === 'model' ? '---' : '---:')).join('|')}|`,
  ];
  for (const c of cells) {
    const unit = c.metric.includes('accuracy') ? '%' : '';
    lines.push(
      `| ${[
        c.task,
        c.metric,
        ...(hasX ? [c.x === undefined ? '' : `${c.xLabel} ${c.x}`] : []),
        c.model,
        c.params.toLocaleString('en-US'),
        String(c.steps),
        String(c.seeds),
        cellValue(c, unit),
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}
