/**
 * A small SVG chart of a task summary, one panel per (task, metric): lines over x (one per model)
 * when the task sweeps x, else bars per model; error bars are ± std over seeds (cells whose every
 * seed diverged have no mark). Plain SVG text,
 * rendered to PNG by resvg (report.ts).
 */
import type { SummaryCell } from './summary.js';

const COLORS = ['#4c72b0', '#dd8452', '#55a868', '#c44e52', '#8172b3', '#937860', '#da8bc3', '#8c8c8c'];
const PANEL_W = 320;
const PANEL_H = 220;
const PAD = { l: 48, r: 12, t: 28, b: 40 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const f = (v: number) => v.toFixed(1);

function panel(all: SummaryCell[], models: string[], ox: number, oy: number): string {
  const { task, metric } = all[0]!;
  const cells = all.filter((c) => Number.isFinite(c.mean)); // every seed diverged: no mark
  const pct = metric.includes('accuracy');
  const scale = pct ? 100 : 1;
  // accuracies live in [0, 100]: the axis stays there and error bars are clipped to it
  const lo = pct ? 0 : Math.min(0, ...cells.map((c) => scale * (c.mean - c.std)));
  const hi = pct ? 100 : Math.max(0, ...cells.map((c) => scale * (c.mean + c.std))) || 1;
  const w = PANEL_W - PAD.l - PAD.r;
  const h = PANEL_H - PAD.t - PAD.b;
  const y = (v: number) => oy + PAD.t + h - ((Math.min(hi, Math.max(lo, scale * v)) - lo) / (hi - lo)) * h;
  const out: string[] = [
    `<text x="${f(ox + PANEL_W / 2)}" y="${f(oy + 16)}" text-anchor="middle" font-size="12" font-weight="bold">${esc(`${task} — ${metric}${pct ? ' (%)' : ''}`)}</text>`,
    `<line x1="${ox + PAD.l}" y1="${oy + PAD.t}" x2="${ox + PAD.l}" y2="${oy + PAD.t + h}" stroke="#333"/>`,
    `<line x1="${ox + PAD.l}" y1="${oy + PAD.t + h}" x2="${ox + PAD.l + w}" y2="${oy + PAD.t + h}" stroke="#333"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    const yy = oy + PAD.t + h - (h * i) / 4;
    out.push(
      `<text x="${ox + PAD.l - 4}" y="${f(yy + 4)}" text-anchor="end" font-size="9">${v.toFixed(Math.abs(hi - lo) < 5 ? 2 : 0)}</text>`,
      `<line x1="${ox + PAD.l}" y1="${f(yy)}" x2="${ox + PAD.l + w}" y2="${f(yy)}" stroke="#ddd"/>`,
    );
  }
  const xs = [...new Set(cells.filter((c) => c.x !== undefined).map((c) => c.x!))].sort((a, b) => a - b);
  if (xs.length > 0) {
    const xAt = (x: number) => ox + PAD.l + (xs.length === 1 ? w / 2 : (xs.indexOf(x) / (xs.length - 1)) * w);
    xs.forEach((x) =>
      out.push(
        `<text x="${f(xAt(x))}" y="${oy + PAD.t + h + 14}" text-anchor="middle" font-size="9">${x}</text>`,
      ),
    );
    out.push(
      `<text x="${f(ox + PAD.l + w / 2)}" y="${oy + PAD.t + h + 28}" text-anchor="middle" font-size="10">${esc(cells.find((c) => c.xLabel)?.xLabel ?? 'x')}</text>`,
    );
    models.forEach((m, i) => {
      const pts = xs
        .map((x) => cells.find((c) => c.model === m && c.x === x))
        .filter((c): c is SummaryCell => c !== undefined);
      if (pts.length === 0) return;
      const color = COLORS[i % COLORS.length]!;
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((c) => `${f(xAt(c.x!))},${f(y(c.mean))}`).join(' ')}"/>`,
      );
      for (const c of pts)
        out.push(
          `<circle cx="${f(xAt(c.x!))}" cy="${f(y(c.mean))}" r="2.5" fill="${color}"/>`,
          `<line x1="${f(xAt(c.x!))}" y1="${f(y(c.mean - c.std))}" x2="${f(xAt(c.x!))}" y2="${f(y(c.mean + c.std))}" stroke="${color}"/>`,
        );
    });
  } else {
    const bw = w / Math.max(1, models.length);
    models.forEach((m, i) => {
      const c = cells.find((k) => k.model === m);
      if (!c) return;
      const color = COLORS[i % COLORS.length]!;
      const x0 = ox + PAD.l + i * bw + bw * 0.15;
      const top = y(c.mean);
      const base = y(lo / scale);
      out.push(
        `<rect x="${f(x0)}" y="${f(Math.min(top, base))}" width="${f(bw * 0.7)}" height="${f(Math.abs(base - top))}" fill="${color}"/>`,
        `<line x1="${f(x0 + bw * 0.35)}" y1="${f(y(c.mean - c.std))}" x2="${f(x0 + bw * 0.35)}" y2="${f(y(c.mean + c.std))}" stroke="#222"/>`,
        `<text x="${f(x0 + bw * 0.35)}" y="${oy + PAD.t + h + 14}" text-anchor="middle" font-size="9">${esc(m)}</text>`,
      );
    });
  }
  return out.join('\n');
}

/** The whole chart: panels in a grid of up to 3 columns, a legend of the models on top. */
export function summarySvg(title: string, cells: SummaryCell[]): string {
  const models = [...new Set(cells.map((c) => c.model))];
  const keys = [...new Set(cells.map((c) => `${c.task}\u0000${c.metric}`))];
  const cols = Math.min(3, Math.max(1, keys.length));
  const rows = Math.ceil(keys.length / cols);
  const width = cols * PANEL_W;
  const height = 44 + rows * PANEL_H;
  const body: string[] = [
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  models.forEach((m, i) =>
    body.push(
      `<rect x="${10 + i * 110}" y="28" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/>`,
      `<text x="${24 + i * 110}" y="37" font-size="10">${esc(m)}</text>`,
    ),
  );
  keys.forEach((k, i) => {
    const group = cells.filter((c) => `${c.task}\u0000${c.metric}` === k);
    body.push(panel(group, models, (i % cols) * PANEL_W, 44 + Math.floor(i / cols) * PANEL_H));
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif">\n${body.join('\n')}\n</svg>\n`;
}
