/**
 * `--merge`: a run replaces, in a family's committed report, the rows of the runs it trained — a
 * run is one (model, width, seed) — and keeps every other row, so one model can be rerun (after a
 * fix), seeds added (`--first-seed`) or a width added (`--widths`) without retraining the rest.
 * A family whose notes are computed from its rows (TaskFamily.notes) has them recomputed over the
 * merged rows. Only a report of the same family and the same budget merges (its `widths` may differ: they are
 * the sweep, and the merged budget lists both); its rows are restored from JSON (NaN was written
 * as null). The merged report keeps the new run's protocol and notes (plus the stored notes
 * about a kept model that the new run does not describe, and the stored failure notes — "No rows for
 * <model> seed <n> failed: …" — of runs the new one did not redo), says which rows came from which
 * run, and lists every diverged run of both.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { TaskReport, TaskRow } from './types.js';

/** A report as `writeTaskReport` stored it (plus its run date). */
export interface StoredReport extends TaskReport {
  date: string;
}

const DIVERGED = 'Diverged';
/** How the note of a run narrowed by `--widths` starts. */
export const WIDTHS_RUN = 'This run trained width(s)';
/** Notes a merge drops: they describe one run's selection, which the merged rows record. */
const RUN_ONLY = [DIVERGED, WIDTHS_RUN];

/** A run that ended in an error, as the families log it: `<model> seed <n> failed: <message>`. */
export const failedRunText = (model: string, seed: number, e: unknown): string =>
  `${model} seed ${seed} failed: ${e instanceof Error ? e.message : String(e)}`;
/** The report note of such a run (what a merge keeps until the run is redone). */
export const failedRunNote = (text: string): string => `No rows for ${text}`;
/** The model and seed of a failure note, or null for another note. */
const failedRun = (n: string): { model: string; seed: number } | null => {
  const m = /^No rows for (\S+) seed (\d+) failed: /.exec(n);
  return m === null ? null : { model: m[1]!, seed: Number(m[2]) };
};

/** The run a row belongs to: model, width (when the family sweeps one) and seed. */
const runKey = (r: TaskRow): string => `${r.model}|${String(r.extra?.width ?? '')}|${r.seed}`;

/** A budget's `widths` (the sweep), or null when it has none. */
function widthsOf(budget: unknown): number[] | null {
  const w =
    budget !== null && typeof budget === 'object' ? (budget as { widths?: unknown }).widths : undefined;
  return Array.isArray(w) ? (w as number[]) : null;
}

/** A budget without its `widths`, for comparing two runs' budgets. */
function withoutWidths(budget: unknown): unknown {
  if (widthsOf(budget) === null) return budget;
  const { widths: _widths, ...rest } = budget as Record<string, unknown>;
  return rest;
}

/** `fresh`'s budget with `widths` the sorted union of both (when both have widths). */
function mergedBudget(previous: unknown, fresh: unknown): unknown {
  const a = widthsOf(previous);
  const b = widthsOf(fresh);
  if (a === null || b === null) return fresh;
  return { ...(fresh as object), widths: [...new Set([...a, ...b])].sort((x, y) => x - y) };
}

/** NaN back from JSON's null, in `value` and in `extra`. */
function restoreRow(r: TaskRow): TaskRow {
  const extra =
    r.extra === undefined
      ? undefined
      : Object.fromEntries(Object.entries(r.extra).map(([k, v]) => [k, v === null ? NaN : v]));
  return { ...r, value: r.value === null ? NaN : r.value, ...(extra === undefined ? {} : { extra }) };
}

/** Reads `path` (a family's JSON); null when there is none. Throws naming a file that is not one. */
export function readStoredReport(path: string): StoredReport | null {
  if (!existsSync(path)) return null;
  const j = JSON.parse(readFileSync(path, 'utf8')) as Partial<StoredReport>;
  if (typeof j.family !== 'string' || !Array.isArray(j.rows) || typeof j.date !== 'string')
    throw new RangeError(`--merge: ${path} is not a task report (needs family, date and rows)`);
  return { ...(j as StoredReport), rows: j.rows.map(restoreRow) };
}

/** "model[ d width] seed s" of every run with a non-finite value or final training loss. */
function divergedRuns(rows: TaskRow[]): string[] {
  const out: string[] = [];
  for (const r of rows) {
    const loss = r.extra?.finalLoss;
    const bad = !Number.isFinite(r.value) || (typeof loss === 'number' && !Number.isFinite(loss));
    const width = r.extra?.width;
    const name = `${r.model}${width === undefined ? '' : ` d ${String(width)}`} seed ${r.seed}`;
    if (bad && !out.includes(name)) out.push(name);
  }
  return out;
}

/** Rows with `extra.run` set to `date` where they have none (the run that produced them). */
const stamp = (rows: TaskRow[], date: string): TaskRow[] =>
  rows.map((r) => (r.extra?.run !== undefined ? r : { ...r, extra: { ...r.extra, run: date } }));

/** The model a note is about: notes that describe a model start with its quoted name ("'hope-vs' …"). */
const noteModel = (n: string): string | null => /^'([^']+)'/.exec(n)?.[1] ?? null;

/** "date: model, model; date: model" over the rows' `extra.run`, in first-seen order. */
function provenance(rows: TaskRow[]): string {
  const byRun = new Map<string, string[]>();
  for (const r of rows) {
    const run = String(r.extra?.run);
    const models = byRun.get(run) ?? [];
    if (!models.includes(r.model)) models.push(r.model);
    byRun.set(run, models);
  }
  return [...byRun].map(([run, models]) => `${run}: ${models.join(', ')}`).join('; ');
}

/**
 * `fresh` with the rows of `previous`'s other models before its own (see the module comment).
 * Every row keeps the date of the run that produced it in `extra.run` (`runDate` for `fresh`'s:
 * its run's end, by default now), so merges can be chained without losing where a row came from.
 */
export function mergeTaskReports(
  previous: StoredReport,
  fresh: TaskReport,
  runDate = new Date().toISOString(),
  notesFor?: (rows: TaskRow[], budget: unknown) => string[],
): TaskReport {
  if (previous.family !== fresh.family)
    throw new RangeError(
      `--merge: the stored report is family '${previous.family}', this run '${fresh.family}'`,
    );
  if (JSON.stringify(withoutWidths(previous.budget)) !== JSON.stringify(withoutWidths(fresh.budget)))
    throw new RangeError(
      `--merge: the stored ${fresh.family} report ran another budget (${JSON.stringify(previous.budget)}); rerun every model instead`,
    );
  const rerun = new Set(fresh.rows.map(runKey));
  const kept = stamp(
    previous.rows.filter((r) => !rerun.has(runKey(r))),
    previous.date,
  );
  const rows = [...kept, ...stamp(fresh.rows, runDate)];
  const keptModels = new Set(kept.map((r) => r.model));
  const diverged = divergedRuns(rows);
  const budget = mergedBudget(previous.budget, fresh.budget);
  const runOnly = (n: string) => RUN_ONLY.some((p) => n.startsWith(p));
  return {
    ...fresh,
    rows,
    budget,
    notes: [
      ...(notesFor !== undefined
        ? // the family's notes over every merged row
          notesFor(rows, budget).filter((n) => !runOnly(n))
        : [
            ...(fresh.notes ?? []).filter((n) => !runOnly(n)),
            // a kept model's own note, unless this run describes that model itself
            ...(previous.notes ?? []).filter((n) => {
              const m = noteModel(n);
              return m !== null && keptModels.has(m) && !(fresh.notes ?? []).some((f) => noteModel(f) === m);
            }),
          ]),
      // failures of earlier runs that this run did not redo (a redone run has rows or its own note)
      ...(previous.notes ?? []).filter((n) => {
        const f = failedRun(n);
        if (f === null) return false;
        const same = (g: { model: string; seed: number } | null) =>
          g !== null && g.model === f.model && g.seed === f.seed;
        return !(fresh.notes ?? []).some((x) => same(failedRun(x))) && !fresh.rows.some(same);
      }),
      `Merged (--merge): rows from the runs that ended ${provenance(rows)} (each row's extra.run).`,
      ...(diverged.length === 0
        ? []
        : [
            `${DIVERGED} (a training loss or a score not finite): ${diverged.join(', ')}; the table leaves them out of the mean ± std and counts them.`,
          ]),
    ],
  };
}
