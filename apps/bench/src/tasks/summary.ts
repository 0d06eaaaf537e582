/** Seeds summarised: rows grouped by (task, metric, x, model), mean ± sample std of `value`. */
import type { TaskRow } from './types.js';

export interface SummaryCell {
  task: string;
  metric: string;
  x?: number;
  xLabel?: string;
  model: string;
  params: number;
  mean: number;
  std: number;
  seeds: number;
  steps: number;
  tokens: number;
}

export const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Sample standard deviation (0 for one value). */
export const std = (xs: number[]): number => {
  const m = mean(xs);
  return xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : 0;
};

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
    const vs = g.map((r) => r.value);
    return {
      task: r0.task,
      metric: r0.metric,
      ...(r0.x === undefined ? {} : { x: r0.x, xLabel: r0.xLabel ?? 'x' }),
      model: r0.model,
      params: r0.params,
      mean: mean(vs),
      std: std(vs),
      seeds: g.length,
      steps: r0.steps,
      tokens: r0.tokens,
    };
  });
}

/** A value for a table: accuracies in %, the rest with 3 decimals. */
export function formatValue(metric: string, v: number): string {
  return metric.includes('accuracy') ? (100 * v).toFixed(1) : v.toFixed(3);
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
        `${formatValue(c.metric, c.mean)} ± ${formatValue(c.metric, c.std)}${unit}`,
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}
