/**
 * Shared types of the paper's-claims tasks (`pnpm bench --suite tasks`): a task family trains
 * the compared models on generated sequences and reports one row per (task, model, seed, x).
 */
import type { ModelConfigInput, Rng } from '@nl/hope';

/** A model of the comparison: a name and the config `buildModel` takes. */
export interface TaskModel {
  name: string;
  config: ModelConfigInput;
}

/**
 * A batch of masked sequences: inputs Int32 [n, len]; targets Int32 [n·len], the id to predict at
 * each position (the next token) or −100 where nothing is scored.
 */
export interface SeqBatch {
  inputs: Int32Array;
  targets: Int32Array;
  n: number;
  len: number;
}

/** Draws `n` examples of a task; deterministic under `rng`. */
export type SeqDraw = (rng: Rng, n: number) => SeqBatch;

/** One measured number of a run. */
export interface TaskRow {
  /** The family ('mqar', 'mad', 'formal', 'niah', 'continual', 'ablation', ...). */
  family: string;
  /** The task within the family ('parity', 'fuzzy-recall', 'S-NIAH-1', ...). */
  task: string;
  model: string;
  params: number;
  seed: number;
  /** What `value` is: 'accuracy' (in [0, 1]), 'bpb' (bits per byte), 'forgetting' (bpb rise)... */
  metric: string;
  value: number;
  /** The swept quantity when there is one (sequence length, pairs, stage), and its name. */
  x?: number;
  xLabel?: string;
  /** Outer training steps and tokens the model saw. */
  steps: number;
  tokens: number;
  seconds: number;
  /** Anything else worth keeping (final loss, split name, ...). */
  extra?: Record<string, number | string | boolean>;
}

/** What a family reports: its rows and how to read them. */
export interface TaskReport {
  family: string;
  title: string;
  /** The protocol in a few sentences (models, budget, metric, chance level). */
  protocol: string;
  rows: TaskRow[];
  /** The budget the family ran with (kept in the JSON). */
  budget: unknown;
  /** Findings or caveats to print under the table. */
  notes?: string[];
  /** Metric direction for the plot's axis label: higher or lower is better. */
  better?: 'higher' | 'lower';
}

/** Options every family's `run` takes. */
export interface TaskRunOptions {
  /** CI budget: a few steps, tiny evals; checks the plumbing, not the models. */
  quick: boolean;
  /**
   * A named budget other than the default (e.g. MQAR's 'long'); only families listing it in
   * `budgets` accept it (the suite refuses the others by name).
   */
  budget?: string;
  seeds: number[];
  /** Model names to run (default all of the comparison). */
  models?: string[];
  /** Model widths to run, a subset of the budget's (families with `takesWidths`; default all). */
  widths?: number[];
  log: (line: string) => void;
}

/** A family of tasks the suite can run. */
export interface TaskFamily {
  name: string;
  title: string;
  /** Named budgets it has besides the default and `quick` (selectable with `--budget`). */
  budgets?: string[];
  /**
   * The notes of a report holding `rows` (for families whose notes are computed from the rows:
   * a `--merge` recomputes them over the merged rows instead of keeping the fresh run's).
   */
  notes?: (rows: TaskRow[], budget: unknown) => string[];
  /** Whether it sweeps model widths that `--widths` can narrow (MQAR). */
  takesWidths?: boolean;
  run(opts: TaskRunOptions): TaskReport;
}
