/** Plain-text table printing for bench results (aligned columns, units in headers). */
import type { Row } from './harness.js';

function fmt(x: number | null | undefined, digits = 2): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '-';
  if (Math.abs(x) >= 1000) return x.toFixed(0);
  if (Math.abs(x) >= 100) return x.toFixed(1);
  return x.toFixed(digits);
}

export function formatTable(rows: Row[], ratioLabel: string): string {
  const header = ['case', 'impl', 'rate', 'unit', 'median ms', ratioLabel, 'note'];
  const body = rows.map((r) => [
    r.case,
    r.impl,
    fmt(r.rate),
    r.unit,
    fmt(r.medianMs, 3),
    r.ratio == null ? '-' : `${fmt(r.ratio)}x`,
    r.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 2 && i <= 5 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
