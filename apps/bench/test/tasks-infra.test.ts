// The tasks suite's shared pieces: example packing (targets shifted by one, padding unscored),
// scoring against a hand-built "model" whose logits are known, the seed summary (mean ± sample
// std), the report files (JSON, markdown, SVG, PNG), and the suite writing a family's files (the MQAR
// family itself: tasks-mqar.test.ts).
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LanguageModel } from '@nl/hope';
import { tensor } from '@nl/tensor';
import { packExamples, scoreBatch } from '../src/tasks/seq-task.js';
import { summarise, summaryMarkdown } from '../src/tasks/summary.js';
import { writeTaskReport } from '../src/tasks/report.js';
import { summarySvg } from '../src/tasks/svg-chart.js';
import { runTaskSuite, TASK_FAMILIES } from '../src/tasks/run-tasks.js';
import { FORMAL_QUICK } from '../src/tasks/formal.js';
import { MAD_QUICK } from '../src/tasks/mad.js';
import { mergeTaskReports, readStoredReport } from '../src/tasks/merge.js';
import type { TaskRow } from '../src/tasks/types.js';

const dir = mkdtempSync(join(tmpdir(), 'nl-tasks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('packExamples', () => {
  it('shifts targets by one, pads right, scores masked positions only', () => {
    const b = packExamples(
      [
        { tokens: Int32Array.of(5, 6, 7), mask: Uint8Array.of(0, 0, 1) },
        { tokens: Int32Array.of(1, 2), mask: Uint8Array.of(0, 1) },
      ],
      9,
    );
    expect([b.n, b.len]).toEqual([2, 3]);
    expect(Array.from(b.inputs)).toEqual([5, 6, 7, 1, 2, 9]);
    expect(Array.from(b.targets)).toEqual([-100, 7, -100, 2, -100, -100]);
  });
  it('refuses a scored first position and mismatched masks', () => {
    expect(() => packExamples([{ tokens: Int32Array.of(1, 2), mask: Uint8Array.of(1, 0) }])).toThrow(
      /position 0/,
    );
    expect(() => packExamples([{ tokens: Int32Array.of(1, 2), mask: Uint8Array.of(0) }])).toThrow(
      /mask entries/,
    );
    expect(() => packExamples([])).toThrow(/no examples/);
  });
});

describe('scoreBatch', () => {
  it('counts argmax hits per token and per sequence', () => {
    // a "model" that always predicts id 3 (V = 4)
    const fake = {
      forward: (ids: { shape: readonly number[] }) => {
        const [n, l] = ids.shape as [number, number];
        const v = new Float32Array(n * l * 4);
        for (let r = 0; r < n * l; r++) v[r * 4 + 3] = 1;
        return tensor(v, { shape: [n, l, 4] });
      },
    } as unknown as LanguageModel;
    const batch = packExamples([
      { tokens: Int32Array.of(0, 3, 3), mask: Uint8Array.of(0, 1, 1) }, // both right
      { tokens: Int32Array.of(0, 3, 1), mask: Uint8Array.of(0, 1, 1) }, // one of two
    ]);
    expect(scoreBatch(fake, batch)).toEqual({ hits: 3, scored: 4, seqHits: 1, seqs: 2 });
  });
});

const row = (model: string, seed: number, value: number, x?: number): TaskRow => ({
  family: 'f',
  task: 't',
  model,
  params: 1000,
  seed,
  metric: 'accuracy',
  value,
  ...(x === undefined ? {} : { x, xLabel: 'len' }),
  steps: 5,
  tokens: 50,
  seconds: 0,
});

describe('summary and report files', () => {
  it('mean ± sample std over seeds, per (task, x, model)', () => {
    const cells = summarise([row('a', 0, 0.5), row('a', 1, 0.7), row('b', 0, 0.2)]);
    expect(cells).toHaveLength(2);
    expect(cells[0]!.mean).toBeCloseTo(0.6, 12);
    expect(cells[0]!.std).toBeCloseTo(Math.SQRT2 / 10, 12);
    expect(summaryMarkdown(cells)).toContain('| t | accuracy | a | 1,000 | 5 | 2 | 60.0 ± 14.1% |');
  });
  it('diverged runs (non-finite value or final loss) are counted, not averaged in', () => {
    const dv = (r: TaskRow, finalLoss: number): TaskRow => ({ ...r, extra: { finalLoss } });
    const cells = summarise([
      dv(row('a', 0, 0.5), 1),
      dv(row('a', 1, 0), NaN),
      dv(row('a', 2, 0.7), 2),
      row('b', 0, NaN),
      row('b', 1, NaN),
    ]);
    expect([cells[0]!.mean, cells[0]!.diverged, cells[0]!.seeds]).toEqual([0.6, 1, 3]);
    expect(cells[0]!.std).toBeCloseTo(Math.SQRT2 / 10, 12);
    expect([Number.isNaN(cells[1]!.mean), cells[1]!.diverged]).toEqual([true, 2]);
    const md = summaryMarkdown(cells);
    expect(md).toContain('| 60.0 ± 14.1% (1 of 3 diverged) |');
    expect(md).toContain('| b | 1,000 | 5 | 2 | diverged (2 of 2) |');
    expect(summarySvg('t', cells)).not.toContain('NaN');
  });
  it('writes JSON, markdown, SVG and a PNG', () => {
    const rows = [row('a', 0, 0.5, 8), row('a', 0, 0.4, 16), row('b', 0, 0.9, 8), row('b', 0, 0.8, 16)];
    const files = writeTaskReport({ family: 'demo', title: 'Demo', protocol: 'p', rows, budget: {} }, dir);
    const json = JSON.parse(readFileSync(files[0]!, 'utf8'));
    expect(json.rows).toHaveLength(4);
    expect(json.summary).toHaveLength(4);
    expect(readFileSync(files[1]!, 'utf8')).toContain('| t | accuracy | len 16 | b |');
    const svg = readFileSync(files[2]!, 'utf8');
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    const png = readFileSync(files[3]!);
    expect(Array.from(png.subarray(0, 4))).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(statSync(files[3]!).size).toBeGreaterThan(1000);
  });
});

describe('--merge', () => {
  const withLoss = (r: TaskRow, finalLoss: number): TaskRow => ({ ...r, extra: { finalLoss, width: 32 } });
  it('keeps the stored rows of models not rerun, replaces the rerun ones, lists diverged runs of both', () => {
    const stored = [
      withLoss(row('a', 0, 0.5), 1.2),
      withLoss(row('b', 0, 0), NaN), // diverged, rerun below
      withLoss(row('c', 1, 0), NaN), // diverged, kept
    ];
    const files = writeTaskReport(
      {
        family: 'm',
        title: 'M',
        protocol: 'p',
        rows: stored,
        budget: { steps: 5 },
        notes: ['Diverged (old): b', "'a' is kept", "'b' old text", 'general'],
      },
      dir,
    );
    const previous = readStoredReport(files[0]!)!;
    expect(Number.isNaN(previous.rows[1]!.extra!.finalLoss), 'NaN restored from null').toBe(true);
    const fresh = {
      family: 'm',
      title: 'M',
      protocol: 'p2',
      rows: [withLoss(row('b', 0, 0.9), 0.3)],
      budget: { steps: 5 },
      notes: ['n', "'b' new text"],
    };
    const merged = mergeTaskReports(previous, fresh, 'D2');
    expect(merged.rows.map((r) => `${r.model}:${r.value}:${r.extra!.run}`)).toEqual([
      `a:0.5:${previous.date}`,
      `c:0:${previous.date}`,
      'b:0.9:D2',
    ]);
    expect(merged.protocol).toBe('p2');
    // the fresh notes, then the kept model a's own note (b's old one is replaced, 'general' dropped)
    expect(merged.notes!.slice(0, 3)).toEqual(['n', "'b' new text", "'a' is kept"]);
    expect(merged.notes![3]).toBe(
      `Merged (--merge): rows from the runs that ended ${previous.date}: a, c; D2: b (each row's extra.run).`,
    );
    expect(merged.notes![4]).toMatch(/^Diverged \(a training loss or a score not finite\): c d 32 seed 1;/);
    expect(merged.notes).toHaveLength(5);
    // a second merge keeps every row's run
    const again = mergeTaskReports({ ...merged, date: 'D2' }, { ...fresh, rows: [row('d', 0, 0.1)] }, 'D3');
    expect(again.rows.map((r) => `${r.model}:${r.extra!.run}`)).toEqual([
      `a:${previous.date}`,
      `c:${previous.date}`,
      'b:D2',
      'd:D3',
    ]);
  });
  it('replaces runs by (model, width, seed): added seeds and widths keep the rest; widths may differ', () => {
    const at = (model: string, seed: number, width: number, value: number): TaskRow => ({
      ...row(model, seed, value),
      extra: { finalLoss: 1, width },
    });
    const previous = {
      date: 'D1',
      family: 'm',
      title: '',
      protocol: '',
      rows: [at('a', 0, 32, 0.1), at('a', 1, 32, 0.2), at('h', 0, 32, 0.3)],
      budget: { steps: 5, widths: [32] },
    };
    const fresh = {
      family: 'm',
      title: '',
      protocol: '',
      // seed 1 of 'a' rerun, seed 2 added, 'a' at a new width, 'h' untouched
      rows: [at('a', 1, 32, 0.7), at('a', 2, 32, 0.8), at('a', 0, 64, 0.9)],
      budget: { steps: 5, widths: [64, 32] },
      notes: [
        "This run trained width(s) 32, 64 only (--widths); the budget's widths are 16, 32, 64.",
        'kept',
      ],
    };
    const merged = mergeTaskReports(previous, fresh, 'D2');
    expect(
      merged.rows.map((r) => `${r.model}/${r.seed}/${r.extra!.width}:${r.value}:${r.extra!.run}`),
    ).toEqual(['a/0/32:0.1:D1', 'h/0/32:0.3:D1', 'a/1/32:0.7:D2', 'a/2/32:0.8:D2', 'a/0/64:0.9:D2']);
    expect(merged.budget).toEqual({ steps: 5, widths: [32, 64] });
    // the run-only note goes (the rows say their widths); the others stay
    expect(merged.notes![0]).toBe('kept');
    expect(merged.notes!.some((n) => n.startsWith('This run trained'))).toBe(false);
    // a budget that differs in more than its widths still refuses
    expect(() => mergeTaskReports(previous, { ...fresh, budget: { steps: 6, widths: [32] } })).toThrow(
      /ran another budget/,
    );
  });
  it('keeps the failure notes (No rows for <model> seed <n> failed) of runs this run did not redo', () => {
    const base = { family: 'm', title: '', protocol: '', budget: { steps: 5 } };
    const previous = {
      ...base,
      date: 'D1',
      rows: [row('a', 2, 0.5)],
      notes: [
        'No rows for t seed 0 failed: NaN at 208',
        'No rows for t seed 1 failed: NaN at 240',
        'No rows for u seed 0 failed: old',
        'general',
      ],
    };
    const fresh = {
      ...base,
      // t seed 1 rerun and trained; u seed 0 rerun and failed again (its own note)
      rows: [row('t', 1, 0.7), row('v', 0, 0.1)],
      notes: ['No rows for u seed 0 failed: new'],
    };
    const merged = mergeTaskReports(previous, fresh, 'D2');
    const failures = merged.notes!.filter((n) => n.startsWith('No rows for'));
    expect(failures).toEqual(['No rows for u seed 0 failed: new', 'No rows for t seed 0 failed: NaN at 208']);
    expect(merged.notes).not.toContain('general');
  });
  it("a family's notes hook recomputes the notes over the merged rows", () => {
    const previous = {
      date: 'D1',
      family: 'm',
      title: '',
      protocol: '',
      rows: [row('a', 0, 0.25), row('b', 0, 0.5)],
      budget: { steps: 5 },
      notes: ['models a, b', "'a' kept note"],
    };
    const fresh = {
      family: 'm',
      title: '',
      protocol: '',
      rows: [row('c', 0, 1)],
      budget: { steps: 5 },
      notes: ['models c'],
    };
    const notesFor = (rows: TaskRow[], budget: unknown): string[] => [
      `models ${rows.map((r) => r.model).join(', ')} at ${JSON.stringify(budget)}`,
      "Diverged (the family's own list): dropped, the merge writes its own",
    ];
    const merged = mergeTaskReports(previous, fresh, 'D2', notesFor);
    expect(merged.notes).toEqual([
      'models a, b, c at {"steps":5}',
      "Merged (--merge): rows from the runs that ended D1: a, b; D2: c (each row's extra.run).",
    ]);
    // without the hook: the fresh run's notes and the kept models' own notes
    expect(mergeTaskReports(previous, fresh, 'D2').notes!.slice(0, 2)).toEqual(['models c', "'a' kept note"]);
  });

  it('the formal and MAD families recompute their row-derived notes on a merge', () => {
    const formal = TASK_FAMILIES.find((f) => f.name === 'formal')!;
    const mad = TASK_FAMILIES.find((f) => f.name === 'mad')!;
    const budget = { ...FORMAL_QUICK, tasks: ['parity'] as const };
    const at = (model: string, x: number, value: number): TaskRow => ({
      ...row(model, 0, value, x),
      task: 'parity',
      metric: 'accuracy',
    });
    const notes = formal.notes!(
      [at('hope', 8, 0.5), at('hope', 16, 0.25), at('hope-live', 8, 1), at('hope-live', 16, 0.75)],
      budget,
    );
    expect(notes).toContain(
      'parity (mean sequence accuracy at lengths 1–8 → 9–16; the first is the training range): hope 50% → 25%, hope-live 100% → 75%',
    );
    const madRows = [
      { ...row('hope', 0, 0.2), task: 'compression' },
      { ...row('hope-live', 0, 0.4), task: 'compression' },
      { ...row('transformer', 0, 0.1), task: 'compression' },
    ];
    expect(mad.notes!(madRows, { ...MAD_QUICK, tasks: ['compression'] }).join('\n')).toMatch(
      /compression: NL paper Hope 51\.2 vs Transformer 49\.4; ours hope 20\.0, hope-live 40\.0 vs transformer 10\.0/,
    );
  });

  it('refuses another family or budget, and a file that is not a report', () => {
    const prev = { date: 'd', family: 'm', title: '', protocol: '', rows: [], budget: { steps: 5 } };
    const fresh = { family: 'm', title: '', protocol: '', rows: [], budget: { steps: 6 } };
    expect(() => mergeTaskReports(prev, fresh)).toThrow(/ran another budget \(\{"steps":5\}\)/);
    expect(() => mergeTaskReports(prev, { ...fresh, family: 'x' })).toThrow(/family 'm', this run 'x'/);
    expect(readStoredReport(join(dir, 'absent.json'))).toBeNull();
    writeFileSync(join(dir, 'bad.json'), '{"a": 1}');
    expect(() => readStoredReport(join(dir, 'bad.json'))).toThrow(/is not a task report/);
  });
});

describe('tasks suite', () => {
  it('the suite writes the family files and names unknown families and models', () => {
    const reports = runTaskSuite({
      families: ['mqar'],
      quick: true,
      seeds: [0],
      models: ['transformer'],
      outDir: dir,
      log: () => {},
    });
    expect(reports[0]!.rows.map((r) => r.model)).toEqual(['transformer', 'transformer', 'transformer']);
    expect(readFileSync(join(dir, 'mqar.md'), 'utf8')).toContain(
      '| pairs (d 32) | accuracy | pairs 2 | transformer |',
    );
    expect(() =>
      runTaskSuite({ families: ['nope'], quick: true, seeds: [0], outDir: dir, log: () => {} }),
    ).toThrow(/unknown task\(s\) nope; available: mqar/);
    expect(() =>
      runTaskSuite({ quick: true, seeds: [0], models: ['gpt'], outDir: dir, log: () => {} }),
    ).toThrow(/unknown model\(s\) gpt/);
  }, 300_000);
});
