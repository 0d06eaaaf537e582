/**
 * Writes a family's report under `results/tasks/`: <family>.json (budget, every row, summary),
 * <family>.md (the protocol, the table of mean ± std over seeds, notes), <family>.svg and
 * <family>.png (the same summary plotted; PNG rendered by resvg with the system fonts — without
 * fonts the labels are missing, the marks are not).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { summarise, summaryMarkdown } from './summary.js';
import { summarySvg } from './svg-chart.js';
import type { TaskReport } from './types.js';

/** The markdown report of a family. */
export function reportMarkdown(report: TaskReport, date: string): string {
  const notes = report.notes?.length ? `\n\n${report.notes.map((n) => `- ${n}`).join('\n')}` : '';
  return `# ${report.title}\n\n${report.protocol}\n\nRun ${date}; ${report.better ?? 'higher'} is better.\n\n${summaryMarkdown(summarise(report.rows))}${notes}\n`;
}

/** Writes the four files; returns their paths. */
export function writeTaskReport(report: TaskReport, outDir: string): string[] {
  const dir = resolve(outDir);
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString();
  const cells = summarise(report.rows);
  const svg = summarySvg(report.title, cells);
  const base = join(dir, report.family);
  const files = [`${base}.json`, `${base}.md`, `${base}.svg`, `${base}.png`];
  writeFileSync(files[0]!, `${JSON.stringify({ date, ...report, summary: cells }, null, 2)}\n`);
  writeFileSync(files[1]!, reportMarkdown(report, date));
  writeFileSync(files[2]!, svg);
  const png = new Resvg(svg, { font: { loadSystemFonts: true }, background: 'white' }).render().asPng();
  writeFileSync(files[3]!, png);
  return files;
}
