/**
 * nl-train's command line: `train` (the default), `eval`, `sample` and `compare`, built with
 * commander 14.
 * Every config key (config.ts) is a kebab-case flag whose help shows its default; `--config
 * <file.json>` reads overrides from a JSON file; flags win over the file. The effective config is
 * printed before any work. `main()` returns the exit code instead of exiting, so tests drive it
 * in-process: 0 done, 1 runtime error (planned model with no factory, missing or corrupt
 * checkpoint, bad corpus), 2 usage error (unknown command, option, model, device or config key,
 * bad value, existing checkpoint without --resume), 130 interrupted by Ctrl-C after saving a
 * checkpoint. Every command checks --device before it reads a corpus or a checkpoint.
 */
import { Command, CommanderError, Option } from 'commander';
import {
  CONFIG_FIELDS,
  ConfigError,
  DEFAULT_CONFIG,
  formatConfig,
  parseFlagValues,
  readConfigFile,
  resolveConfig,
  toFlag,
  type Command as CommandName,
  type ConfigKey,
  type TrainConfig,
} from './config.js';
import { evaluateBpb } from './evaluate.js';
import { resolveDevice } from './device.js';
import { prepareData } from './data.js';
import type { ModelRegistry, TrainableLM } from './model-api.js';
import { MODELS, UnknownModelError, getModelFactory } from './models.js';
import { runCompare } from './compare.js';
import { createReporter, type Reporter } from './progress.js';
import { checkpointExists, loadRun, type LoadedRun } from './run-state.js';
import { existsSync } from 'node:fs';
import { sampleText } from './sample.js';
import { applyThreads } from './threads.js';
import { TrainSetupError, runTrain } from './train.js';
import { Rng } from '@nl/hope';
import { registerExport } from './export-onnx.js';

/** Injected I/O and models (the real CLI passes process streams and {@link MODELS}). */
export interface MainDeps {
  registry?: ModelRegistry;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream;
  /** Aborting it acts like Ctrl-C. */
  signal?: AbortSignal;
  /**
   * Install SIGINT and SIGTERM handlers (the real CLI): the first signal finishes the step and
   * saves a checkpoint; a second one stops at once without saving (`exit(130)`).
   */
  handleSigint?: boolean;
  /** How a second interrupt stops the process (default `process.exit`; tests record it). */
  exit?: (code: number) => void;
  /** Override the reporter (tests). */
  reporter?: Reporter;
  /** Override the clock in milliseconds (tests of `timeLimit`). */
  now?: () => number;
}

const KEYS = Object.keys(CONFIG_FIELDS) as ConfigKey[];

/** Models `compare` trains by default: Hope and the baselines of the paper's comparison. */
const COMPARE_MODELS = 'hope-tiny,transformer-tiny,titans-tiny,deltanet-tiny';

function addConfigOptions(
  cmd: Command,
  name: CommandName,
  fromCheckpoint: boolean,
  exclude: readonly ConfigKey[] = [],
): Command {
  cmd.option(
    '--config <file>',
    'JSON file of config overrides (keys as below, camelCase); flags win over it',
  );
  for (const k of KEYS) {
    const f = CONFIG_FIELDS[k];
    if (!(f.commands as readonly CommandName[]).includes(name) || exclude.includes(k)) continue;
    const def =
      fromCheckpoint && k !== 'checkpointDir'
        ? `from the checkpoint's run, else ${JSON.stringify(f.default)}`
        : JSON.stringify(f.default);
    cmd.addOption(new Option(`--${toFlag(k)} <value>`, `${f.help} (default: ${def})`));
  }
  return cmd;
}

/** Overrides from `--config` then flags (each validated; unknown keys rejected). */
function overridesFrom(opts: Record<string, unknown>): Partial<TrainConfig>[] {
  const { config: file, resume: _resume, models: _models, out: _out, ...flags } = opts;
  return [file ? readConfigFile(String(file)) : {}, parseFlagValues(flags)];
}

/** Resolve the config of a command that reads an existing checkpoint: its saved run config is the base. */
function configFromCheckpoint(
  layers: Partial<TrainConfig>[],
  command: 'train --resume' | 'eval' | 'sample',
): { config: TrainConfig; run: LoadedRun } {
  // a --device given on the command line is checked before the checkpoint is read
  const flagged = layers.map((l) => l.device).filter((d) => d !== undefined);
  if (flagged.length) resolveDevice(flagged[flagged.length - 1]!);
  const dir = resolveConfig({}, ...layers).checkpointDir;
  if (!checkpointExists(dir)) throw new Error(noCheckpointMessage(dir, command));
  const run = loadRun(dir);
  try {
    resolveConfig(run.trainerConfig); // the saved config alone must be valid: else the checkpoint is at fault
  } catch (e) {
    throw new Error(
      `checkpoint ${run.path}/config.json holds an invalid run config: ${(e as Error).message}`,
    );
  }
  const config = resolveConfig(run.trainerConfig, ...layers);
  if (config.model !== run.trainerConfig.model) {
    throw new ConfigError(
      `--model ${config.model} does not match the checkpoint's model "${String(run.trainerConfig.model)}"`,
    );
  }
  return { config: { ...config, checkpointDir: dir }, run };
}

/** Quote `s` for a POSIX shell when it needs it. */
const shq = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);

/** What `command` says when `dir` holds no checkpoint: where it looked and how to make one. */
function noCheckpointMessage(dir: string, command: 'train --resume' | 'eval' | 'sample'): string {
  const what = existsSync(dir)
    ? `no checkpoint found in ${dir} (it has no manifest.json)`
    : `no checkpoint found in ${dir} (the folder does not exist)`;
  const args = `train --checkpoint-dir ${shq(dir)}`;
  const first =
    command === 'train --resume'
      ? 'nothing to resume; start the run without --resume'
      : `${command} needs a trained checkpoint; train one first (add --model <name> for another model than the default)`;
  return `${what}\n${first}:\n  nl-train ${args}\n  pnpm train ${args}   (from the repository root)`;
}

/**
 * Throw UnknownModelError (exit 2) when `model` is neither registered nor planned. A planned model
 * with no factory is left to the run (exit 1, after the effective config is printed).
 */
function usageCheck(model: string, registry: ModelRegistry): void {
  try {
    getModelFactory(model, registry);
  } catch (e) {
    if (e instanceof UnknownModelError) throw e;
  }
}

async function loadModel(config: TrainConfig, run: LoadedRun, registry: ModelRegistry): Promise<TrainableLM> {
  await applyThreads(config.threads);
  const model = await getModelFactory(
    config.model,
    registry,
  )({ config, vocabSize: 256, savedModelConfig: run.modelConfig });
  await model.load({ weights: run.weights, optimizer: run.optimizer, extra: run.extra });
  return model;
}

/**
 * Run nl-train with `argv` (as process.argv: node, script, args...).
 * @returns the process exit code
 */
export async function main(argv: string[], deps: MainDeps = {}): Promise<number> {
  const stdout = deps.stdout ?? process.stdout;
  const stderr = deps.stderr ?? process.stderr;
  const registry = deps.registry ?? MODELS;
  const print = (s: string) => void stdout.write(s + '\n');
  let code = 0;

  /**
   * Run `fn` with an abort signal fired by deps.signal or (real CLI) the first Ctrl-C / SIGTERM.
   * The listener stays installed: a second signal (even one that arrived during the same
   * synchronous step) stops the process at once, without saving.
   */
  const withInterrupt = async (fn: (signal: AbortSignal) => Promise<void>): Promise<void> => {
    const controller = new AbortController();
    deps.signal?.addEventListener('abort', () => controller.abort());
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      signals++;
      const what = sig === 'SIGINT' ? 'Ctrl-C' : sig;
      if (signals === 1) {
        stderr.write(
          `\nnl-train: ${what} — finishing this step and saving a checkpoint (press Ctrl-C again to stop at once without saving)\n`,
        );
        controller.abort();
        return;
      }
      stderr.write(`\nnl-train: ${what} again — stopping now without saving (the last checkpoint is kept)\n`);
      (deps.exit ?? ((c: number) => process.exit(c)))(130);
    };
    const onInt = () => onSignal('SIGINT');
    const onTerm = () => onSignal('SIGTERM');
    if (deps.handleSigint) {
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
    }
    try {
      await fn(controller.signal);
    } finally {
      if (deps.handleSigint) {
        process.removeListener('SIGINT', onInt);
        process.removeListener('SIGTERM', onTerm);
      }
    }
  };

  const program = new Command()
    .name('nl-train')
    .description('Train, evaluate and sample Nested Learning models (Hope and baselines) on byte-level text.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void stdout.write(s), writeErr: (s) => void stderr.write(s) })
    .showHelpAfterError('(run nl-train <command> --help for every option and its default)')
    .addHelpText(
      'after',
      '\nConfig precedence: defaults (apps/trainer/src/config.ts; with --resume, eval and sample: the\n' +
        "checkpoint's saved run config) < --config file.json < flags. Exit codes: 0 done, 1 error,\n" +
        '2 bad usage or config, 130 interrupted by Ctrl-C (a checkpoint was saved).',
    );

  const train = program
    .command('train', { isDefault: true })
    .description('train a model (the default command); resumable, Ctrl-C saves a checkpoint')
    .option(
      '--resume',
      'continue the run in --checkpoint-dir (its saved config is the base; flags such as --steps override)',
    );
  addConfigOptions(train, 'train', false).action(async (opts: Record<string, unknown>) => {
    const layers = overridesFrom(opts);
    let config: TrainConfig;
    let run: LoadedRun | undefined;
    if (opts.resume) ({ config, run } = configFromCheckpoint(layers, 'train --resume'));
    else config = resolveConfig({ ...DEFAULT_CONFIG }, ...layers);
    usageCheck(config.model, registry); // usage errors before the effective config is printed
    resolveDevice(config.device);
    print(`nl-train train${run ? ' --resume' : ''}: effective config\n${formatConfig(config, 'train')}`);
    await withInterrupt(async (signal) => {
      const reporter = deps.reporter ?? createReporter(stdout, config.logInterval);
      const result = await runTrain(config, run, { registry, print, reporter, signal, now: deps.now });
      code = result.status === 'interrupted' ? 130 : 0;
    });
  });

  const compare = program
    .command('compare')
    .description('train several models on the same data, steps and seed; print and save a table')
    .option('--models <list>', 'comma-separated model names (default: "' + COMPARE_MODELS + '")')
    .option('--out <dir>', 'folder for each model\'s run and compare.md/json (default: "runs/compare")');
  addConfigOptions(compare, 'train', false, ['model', 'checkpointDir', 'plotDir', 'numSamples']).action(
    async (opts: Record<string, unknown>) => {
      const config = resolveConfig({ ...DEFAULT_CONFIG, numSamples: 0 }, ...overridesFrom(opts));
      const models = String(opts.models ?? COMPARE_MODELS)
        .split(',')
        .map((m) => m.trim())
        .filter(Boolean);
      if (models.length === 0 || new Set(models).size !== models.length) {
        throw new ConfigError(`--models must list distinct model names, got ${JSON.stringify(opts.models)}`);
      }
      for (const m of models) usageCheck(m, registry); // unknown models: usage error before any work
      resolveDevice(config.device); // and a device this process cannot serve
      print(`nl-train compare ${models.join(', ')}: effective config\n${formatConfig(config, 'train')}`);
      await withInterrupt(async (signal) => {
        const reporter = () => deps.reporter ?? createReporter(stdout, config.logInterval);
        const rows = await runCompare(config, models, String(opts.out ?? 'runs/compare'), {
          registry,
          print,
          reporter,
          signal,
        });
        code = rows ? 0 : 130;
      });
    },
  );

  const evalCmd = program
    .command('eval')
    .description('validation bits per byte of a checkpoint (use --corpus to score another corpus)');
  addConfigOptions(evalCmd, 'eval', true).action(async (opts: Record<string, unknown>) => {
    const { config, run } = configFromCheckpoint(overridesFrom(opts), 'eval');
    resolveDevice(config.device); // refuse a device this process cannot serve before reading the corpus
    print(`nl-train eval: effective config\n${formatConfig(config, 'eval')}`);
    const { split, summary } = prepareData(config);
    print(summary);
    const model = await loadModel(config, run, registry);
    try {
      const r = await evaluateBpb(model, split.val, config.batchSize, config.seqLen, config.evalBatches);
      print(
        `eval: ${config.model} at step ${run.state.step} on ${config.corpus}: ${r.bpb.toFixed(4)} bits per byte over ${r.bytes} bytes`,
      );
    } finally {
      model.dispose?.();
    }
  });

  const sampleCmd = program.command('sample').description('generate text from a checkpoint');
  addConfigOptions(sampleCmd, 'sample', true).action(async (opts: Record<string, unknown>) => {
    const { config, run } = configFromCheckpoint(overridesFrom(opts), 'sample');
    resolveDevice(config.device); // refuse a device this process cannot serve before loading the model
    print(`nl-train sample: effective config\n${formatConfig(config, 'sample')}`);
    const model = await loadModel(config, run, registry);
    try {
      for (let i = 0; i < Math.max(1, config.numSamples); i++) {
        stdout.write(`--- sample ${i + 1} ---\n${config.prompt}`);
        await sampleText(
          model,
          config.prompt,
          {
            length: config.sampleLength,
            temperature: config.temperature,
            topK: config.topK,
            rng: Rng.fromSeed(config.seed + 1 + i),
          },
          (s) => void stdout.write(s),
        );
        stdout.write('\n');
      }
    } finally {
      model.dispose?.();
    }
  });

  registerExport(program, print);

  // `train` is the default command, so commander would read an unknown command name as an
  // argument of train ("too many arguments for 'train'"): name it and list the commands instead.
  const first = argv[2];
  const names = program.commands.flatMap((c) => [c.name(), ...c.aliases()]).concat('help');
  if (first !== undefined && !first.startsWith('-') && !names.includes(first)) {
    stderr.write(
      `nl-train: error: unknown command '${first}'\n` +
        `commands: ${program.commands.map((c) => c.name() + (c.name() === 'train' ? ' (the default)' : '')).join(', ')}, help\n` +
        '(run nl-train --help for what each does, nl-train <command> --help for its options)\n',
    );
    return 2;
  }

  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.help' ||
        e.code === 'commander.version'
        ? 0
        : 2;
    }
    const err = e as Error;
    stderr.write(`nl-train: error: ${err.message}\n`);
    return err instanceof ConfigError || err instanceof TrainSetupError ? 2 : 1;
  }
}
