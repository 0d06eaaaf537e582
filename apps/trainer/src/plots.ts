/**
 * Training curves as files: train loss and validation loss, both in bits per byte, against the
 * step. A vega-lite spec is compiled to vega, rendered headless to SVG (`renderer: 'none'`, no
 * canvas), and the SVG rasterised to PNG by @resvg/resvg-js (fonts: the system's, falling back
 * to the default sans-serif family).
 */
import { Resvg } from '@resvg/resvg-js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import * as vl from 'vega-lite';

/** A run's history: one point per training step and per evaluation. */
export interface History {
  train: { step: number; loss: number; lr: number }[];
  val: { step: number; bpb: number }[];
}

/** The vega-lite spec of the curves (exported for inspection and tests). */
export function curvesSpec(history: History, title: string): vl.TopLevelSpec {
  const values = [
    ...history.train.map((p) => ({ step: p.step, bpb: p.loss / Math.LN2, series: 'train loss' })),
    ...history.val.map((p) => ({ step: p.step, bpb: p.bpb, series: 'validation' })),
  ];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 640,
    height: 360,
    background: 'white',
    data: { values },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step' },
      y: { field: 'bpb', type: 'quantitative', title: 'bits per byte', scale: { zero: false } },
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        scale: { domain: ['train loss', 'validation'], range: ['#4c78a8', '#e45756'] },
      },
    },
    layer: [
      { transform: [{ filter: "datum.series === 'train loss'" }], mark: { type: 'line', strokeWidth: 1.2 } },
      {
        transform: [{ filter: "datum.series === 'validation'" }],
        mark: { type: 'line', strokeWidth: 2, point: { filled: true, size: 30 } },
      },
    ],
  };
}

/**
 * Render the curves as SVG text and PNG bytes.
 * @throws Error if the history is empty
 */
export async function renderCurves(
  history: History,
  title: string,
): Promise<{ svg: string; png: Uint8Array }> {
  if (history.train.length === 0 && history.val.length === 0)
    throw new Error('plots: nothing to plot (empty history)');
  const compiled = vl.compile(curvesSpec(history, title)).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    const png = new Resvg(svg, {
      fitTo: { mode: 'zoom', value: 2 },
      font: { loadSystemFonts: true, defaultFontFamily: 'sans-serif' },
    })
      .render()
      .asPng();
    return { svg, png: new Uint8Array(png) };
  } finally {
    view.finalize();
  }
}

/**
 * Write `curves.svg` and `curves.png` into `dir` (created if needed).
 * @returns the two paths
 */
export async function writeCurves(
  dir: string,
  history: History,
  title: string,
): Promise<{ svg: string; png: string }> {
  const { svg, png } = await renderCurves(history, title);
  mkdirSync(dir, { recursive: true });
  const paths = { svg: join(dir, 'curves.svg'), png: join(dir, 'curves.png') };
  writeFileSync(paths.svg, svg);
  writeFileSync(paths.png, png);
  return paths;
}
