/**
 * `--merge`: a run of some models replaces their rows in a family's committed report and keeps the
 * other models' rows, so one model can be rerun (after a fix) without retraining the rest. Only a
 * report of the same family and the same budget merges; its rows are restored from JSON (NaN was
 * written as null). The merged report keeps the new run's protocol and notes (plus the stored notes
 * about a kept model that the new run does not describe), says which rows came from which run, and
 * lists every diverged run of both.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { TaskReport, TaskRow } from './types.js';

/** A report as `writeTaskReport` stored it (plus its run date). */
export interface StoredReport extends TaskReport {
  date: string;
}

const DIVERGED = 'Diverged';

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
): TaskReport {
  if (previous.family !== fresh.family)
    throw new RangeError(
      `--merge: the stored report is family '${previous.family}', this run '${fresh.family}'`,
    );
  if (JSON.stringify(previous.budget) !== JSON.stringify(fresh.budget))
    throw new RangeError(
      `--merge: the stored ${fresh.family} report ran another budget (${JSON.stringify(previous.budget)}); rerun every model instead`,
    );
  const rerun = new Set(fresh.rows.map((r) => r.model));
  const kept = stamp(
    previous.rows.filter((r) => !rerun.has(r.model)),
    previous.date,
  );
  const rows = [...kept, ...stamp(fresh.rows, runDate)];
  const keptModels = new Set(kept.map((r) => r.model));
  const diverged = divergedRuns(rows);
  return {
    ...fresh,
    rows,
    notes: [
      ...(fresh.notes ?? []).filter((n) => !n.startsWith(DIVERGED)),
      // a kept model's own note, unless this run describes that model itself
      ...(previous.notes ?? []).filter((n) => {
        const m = noteModel(n);
        return m !== null && keptModels.has(m) && !(fresh.notes ?? []).some((f) => noteModel(f) === m);
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
