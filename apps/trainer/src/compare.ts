/**
 * `nl-train compare`: train several models with the same config — corpus, split, seqLen,
 * batchSize, steps, schedule and seed, so the same tokens in the same order — one after the
 * other, then print a markdown table (validation bits per byte, training tokens/s, parameters,
 * wall time of each run)
 * and write it with the raw numbers to `<out>/compare.md` and `<out>/compare.json`. Each model's
 * checkpoint and curves go to `<out>/<model>/`. Parameter matching is the presets' job: the
 * table shows the counts so a reader can check it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { TrainConfig } from './config.js';
import type { ModelRegistry } from './model-api.js';
import { getModelFactory } from './models.js';
import { formatDuration, type Reporter } from './progress.js';
import { runTrain } from './train.js';

/** One model's outcome. */
export interface CompareRow {
  model: string;
  valBpb: number;
  tokensPerSec: number;
  parameters: number;
  steps: number;
  /** Seconds of the whole run (training, evaluations, checkpoints, plots). */
  wallSeconds: number;
}

/** What the comparison needs from its caller. */
export interface CompareDeps {
  registry?: ModelRegistry;
  print: (line: string) => void;
  /** A fresh reporter per model. */
  reporter: () => Reporter;
  signal?: AbortSignal;
}

/** The machine a comparison ran on: CPU model, cores, 1-minute load average at the start. */
export function describeMachine(): string {
  const c = cpus();
  return `${c.length}× ${c[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.versions.node}, load average ${loadavg()[0].toFixed(1)} at the start`;
}

/** The comparison as a markdown table. */
export function compareTable(rows: CompareRow[], config: TrainConfig, machine?: string): string {
  const head =
    `Same data and seed for every model: corpus ${config.corpus}, ${config.steps} steps of ` +
    `${config.batchSize}×${config.seqLen} tokens, lr ${config.lr} (${config.schedule}), optimizer ${config.optimizer}, seed ${config.seed}.\n` +
    (machine ? `Machine: ${machine}.\n` : '') +
    '\n' +
    '| model | val bits/byte | train tokens/s | parameters | wall time |\n|---|---|---|---|---|\n';
  return (
    head +
    rows
      .map(
        (r) =>
          `| ${r.model} | ${r.valBpb.toFixed(4)} | ${Math.round(r.tokensPerSec)} | ${r.parameters.toLocaleString('en-US')} | ${formatDuration(r.wallSeconds)} |`,
      )
      .join('\n') +
    '\n'
  );
}

/**
 * Train each model in `models` under `base` and tabulate the results.
 * @returns the rows, or undefined when interrupted (the interrupted model's checkpoint is saved)
 * @throws ModelNotAvailableError before training anything if a model is not registered
 */
export async function runCompare(
  base: TrainConfig,
  models: string[],
  outDir: string,
  deps: CompareDeps,
): Promise<CompareRow[] | undefined> {
  for (const m of models) getModelFactory(m, deps.registry); // all must exist before any work
  const rows: CompareRow[] = [];
  const machine = describeMachine();
  for (const model of models) {
    deps.print(`=== ${model} ===`);
    const config: TrainConfig = {
      ...base,
      model,
      checkpointDir: join(outDir, model, 'checkpoint'),
      plotDir: join(outDir, model),
    };
    const r = await runTrain(config, undefined, {
      registry: deps.registry,
      print: deps.print,
      reporter: deps.reporter(),
      signal: deps.signal,
    });
    if (r.status === 'interrupted') return undefined;
    rows.push({
      model,
      valBpb: r.valBpb!,
      tokensPerSec: r.tokensPerSec,
      parameters: r.parameters,
      steps: r.step,
      wallSeconds: r.wallSeconds,
    });
  }
  const table = compareTable(rows, base, machine);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'compare.md'), table);
  writeFileSync(
    join(outDir, 'compare.json'),
    JSON.stringify({ config: base, machine, rows }, null, 2) + '\n',
  );
  deps.print(table);
  return rows;
}
