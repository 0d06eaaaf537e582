/**
 * The training loop, written against the {@link TrainableLM} contract (model-api.ts):
 *
 *   for step in [start, steps): lr = schedule(step); loss = model.trainStep(randomBatch, lr)
 *     every evalInterval steps: validation bits per byte
 *     every checkpointInterval steps: atomic checkpoint (weights, optimizer, config, RNG, history)
 *     on abort (Ctrl-C): checkpoint and return 'interrupted'
 *   at the end (or when `timeLimit` minutes have passed): validation, checkpoint, curves.svg/png +
 *   metrics.jsonl, samples, summary line (the schedule still spans `steps`; resume continues it)
 *
 * `--resume` restores weights, optimizer, step, batch RNG and history, so the resumed run takes
 * exactly the same steps as an uninterrupted one. A non-finite loss stops the run without
 * writing a checkpoint (the last good one stays).
 */
import { RandomBatches, Rng, acquireCheckpointLock } from '@nl/hope';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as asciichart from 'asciichart';
import type { TrainConfig } from './config.js';
import { prepareData } from './data.js';
import { evaluateBpb } from './evaluate.js';
import type { ModelRegistry } from './model-api.js';
import { getModelFactory } from './models.js';
import { writeCurves, type History } from './plots.js';
import { formatDuration, type Reporter } from './progress.js';
import { checkpointExists, saveRun, type LoadedRun, type RunState } from './run-state.js';
import { sampleText } from './sample.js';
import { learningRate } from './schedule.js';
import { describeDevice, resolveDevice } from './device.js';
import { applyThreads } from './threads.js';

/** What runTrain needs from its caller. */
export interface TrainDeps {
  registry?: ModelRegistry;
  /** Plain output (config, messages, samples). */
  print: (line: string) => void;
  reporter: Reporter;
  /** Aborting it (SIGINT) saves a checkpoint and stops. */
  signal?: AbortSignal;
  /** Clock in milliseconds for throughput, ETA and `timeLimit` (default `performance.now`). */
  now?: () => number;
}

/** Outcome of a run. */
export interface TrainResult {
  status: 'done' | 'interrupted';
  step: number;
  valBpb: number | undefined;
  /** Trainable parameters of the model. */
  parameters: number;
  /** Training throughput: tokens per second spent in trainStep (evaluation and I/O excluded). */
  tokensPerSec: number;
  /** Seconds this call took, from loading the data to the summary (evaluations, I/O, samples). */
  wallSeconds: number;
  plots?: { svg: string; png: string };
}

/** Raised when a run cannot start (existing checkpoint without --resume, model mismatch...). */
export class TrainSetupError extends Error {
  override name = 'TrainSetupError';
}

function downsample(xs: number[], n: number): number[] {
  if (xs.length <= n) return xs;
  return Array.from({ length: n }, (_, i) => xs[Math.floor((i * (xs.length - 1)) / (n - 1))]);
}

/**
 * Train (or resume) a model as configured.
 * @param resume - a run loaded from `config.checkpointDir`, or undefined for a fresh run
 */
export async function runTrain(
  config: TrainConfig,
  resume: LoadedRun | undefined,
  deps: TrainDeps,
): Promise<TrainResult> {
  const { print } = deps;
  const wallStart = performance.now();
  const factory = getModelFactory(config.model, deps.registry); // fail before any work
  const device = resolveDevice(config.device); // an unknown or unavailable device, too
  if (!resume && checkpointExists(config.checkpointDir)) {
    throw new TrainSetupError(
      `${config.checkpointDir} already holds a checkpoint; pass --resume to continue it, or choose another --checkpoint-dir (nothing was overwritten)`,
    );
  }
  const data = prepareData(config); // a bad corpus fails before anything is created
  // One trainer per checkpoint folder: the lock (also the check that the folder's parent is
  // writable, before any step is spent) is held until the run returns.
  let lock: ReturnType<typeof acquireCheckpointLock>;
  try {
    lock = acquireCheckpointLock(config.checkpointDir, { onWarning: print });
  } catch (e) {
    throw new Error(`cannot use --checkpoint-dir: ${(e as Error).message}`);
  }
  try {
    return await trainLocked(config, resume, deps, factory, device, wallStart, data);
  } finally {
    lock.release();
  }
}

async function trainLocked(
  config: TrainConfig,
  resume: LoadedRun | undefined,
  deps: TrainDeps,
  factory: ReturnType<typeof getModelFactory>,
  device: ReturnType<typeof resolveDevice>,
  wallStart: number,
  data: ReturnType<typeof prepareData>,
): Promise<TrainResult> {
  const { print, reporter, signal } = deps;
  const { split, summary } = data;
  print(summary);
  const threads = await applyThreads(config.threads);
  if (threads !== undefined) print(`native CPU threads: ${threads}`);
  const model = await factory({ config, vocabSize: 256, savedModelConfig: resume?.modelConfig });
  try {
    const state: RunState = resume
      ? structuredClone(resume.state)
      : {
          step: 0,
          rng: { batches: [0, 0, 0, 0] },
          tokensSeen: 0,
          trainSeconds: 0,
          history: { train: [], val: [] },
        };
    if (resume) {
      await model.load({ weights: resume.weights, optimizer: resume.optimizer, extra: resume.extra });
      print(`resumed from ${resume.path} at step ${state.step}`);
    }
    const batches = new RandomBatches(
      split.train,
      config.batchSize,
      config.seqLen,
      resume ? state.rng.batches : config.seed,
    );
    print(`model ${config.model}: ${model.numParameters().toLocaleString('en-US')} parameters`);
    print(describeDevice(device));
    const tokensPerStep = config.batchSize * config.seqLen;
    const history: History = state.history;
    const evaluate = async (): Promise<number> => {
      const r = await evaluateBpb(model, split.val, config.batchSize, config.seqLen, config.evalBatches);
      history.val.push({ step: state.step, bpb: r.bpb });
      reporter.log(`step ${state.step}: validation ${r.bpb.toFixed(4)} bits per byte (${r.bytes} bytes)`);
      return r.bpb;
    };
    let lastSaved: number | undefined = resume ? state.step : undefined;
    const checkpoint = async (why: string): Promise<void> => {
      state.rng.batches = batches.state();
      await saveRun(config.checkpointDir, model, config, state, (m) => reporter.log(`warning: ${m}`));
      lastSaved = state.step;
      reporter.log(`step ${state.step}: checkpoint (${why}) written to ${config.checkpointDir}`);
    };

    const firstStep = state.step;
    const now = deps.now ?? (() => performance.now());
    const t0 = now();
    const secondsThisRun = () => (now() - t0) / 1000;
    let interrupted = false;
    reporter.start(config.steps, state.step);
    try {
      while (state.step < config.steps) {
        // Yield to the event loop once per step: a synchronous model would otherwise starve it,
        // so neither Ctrl-C (a signal event) nor the progress bar's redraw timer could run.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (signal?.aborted) {
          interrupted = true;
          break;
        }
        const lr = learningRate(state.step, config);
        const batch = batches.next();
        const tStep = performance.now();
        const kept = () =>
          lastSaved === undefined
            ? 'no checkpoint was written'
            : `no checkpoint was written; the last good one (step ${lastSaved}) is kept`;
        let loss: number;
        try {
          loss = await model.trainStep(batch, lr);
        } catch (e) {
          // e.g. a model that checks its state and finds non-finite values (Hope's CMS)
          throw new Error(
            `training failed at step ${state.step + 1} (lr ${lr}): ${(e as Error).message}; ${kept()}`,
          );
        }
        state.trainSeconds += (performance.now() - tStep) / 1000;
        if (!Number.isFinite(loss)) {
          throw new Error(
            `training diverged: loss is ${loss} at step ${state.step + 1} (lr ${lr}); ${kept()}`,
          );
        }
        state.step++;
        state.tokensSeen += tokensPerStep;
        history.train.push({ step: state.step, loss, lr });
        const done = state.step - firstStep;
        const sec = secondsThisRun();
        reporter.step({
          step: state.step,
          loss,
          lr,
          tokensPerSec: (done * tokensPerStep) / Math.max(sec, 1e-9),
          etaSec: ((config.steps - state.step) * sec) / done,
        });
        const outOfTime = config.timeLimit > 0 && sec >= config.timeLimit * 60;
        const last = state.step === config.steps || outOfTime;
        if (!last && config.evalInterval > 0 && state.step % config.evalInterval === 0) await evaluate();
        if (!last && config.checkpointInterval > 0 && state.step % config.checkpointInterval === 0)
          await checkpoint('interval');
        if (outOfTime && state.step < config.steps) {
          reporter.log(`time limit of ${config.timeLimit} min reached at step ${state.step}/${config.steps}`);
          break;
        }
      }
      if (signal?.aborted && state.step < config.steps) interrupted = true;
    } finally {
      reporter.stop();
    }

    const parameters = model.numParameters();
    const tps = state.tokensSeen / Math.max(state.trainSeconds, 1e-9);
    let valBpb: number | undefined;
    if (interrupted) {
      await checkpoint('interrupted');
    } else {
      const lastVal = history.val.at(-1);
      valBpb = lastVal && lastVal.step === state.step ? lastVal.bpb : await evaluate();
      await checkpoint('end');
    }
    mkdirSync(config.plotDir, { recursive: true });
    writeFileSync(
      join(config.plotDir, 'metrics.jsonl'),
      [
        ...history.train.map((p) => JSON.stringify(p)),
        ...history.val.map((p) => JSON.stringify({ step: p.step, val_bpb: p.bpb })),
      ].join('\n') + '\n',
    );
    const plots =
      history.train.length > 0
        ? await writeCurves(config.plotDir, history, `${config.model} on ${config.corpus}`)
        : undefined;
    if (interrupted) {
      print(
        `interrupted at step ${state.step}/${config.steps}; checkpoint saved to ${config.checkpointDir}; continue with: nl-train train --resume --checkpoint-dir ${config.checkpointDir}`,
      );
      return {
        status: 'interrupted',
        step: state.step,
        valBpb: history.val.at(-1)?.bpb,
        parameters,
        tokensPerSec: tps,
        wallSeconds: (performance.now() - wallStart) / 1000,
        plots,
      };
    }
    if (history.val.length > 1)
      print(
        'validation bits per byte:\n' +
          asciichart.plot(
            downsample(
              history.val.map((p) => p.bpb),
              60,
            ),
            { height: 8, format: (x) => x.toFixed(3).padStart(7) },
          ),
      );
    for (let i = 0; i < config.numSamples; i++) {
      const text = await sampleText(model, config.prompt, {
        length: config.sampleLength,
        temperature: config.temperature,
        topK: config.topK,
        rng: Rng.fromSeed(config.seed + 1 + i),
      });
      print(`--- sample ${i + 1} ---\n${config.prompt}${text}`);
    }
    const lastLoss = history.train.at(-1)?.loss ?? NaN;
    const wallSeconds = (performance.now() - wallStart) / 1000;
    print(
      `done: step ${state.step}/${config.steps} | train loss ${lastLoss.toFixed(4)} nats (${(lastLoss / Math.LN2).toFixed(3)} bpb) | ` +
        `val ${valBpb!.toFixed(4)} bpb | ${parameters.toLocaleString('en-US')} params | ${state.tokensSeen.toLocaleString('en-US')} tokens in ` +
        `${formatDuration(state.trainSeconds)} of train steps (${Math.round(tps)} tok/s) | wall ${formatDuration(wallSeconds)} | checkpoint ${config.checkpointDir}` +
        (plots ? ` | curves ${plots.png}` : ''),
    );
    return { status: 'done', step: state.step, valBpb, parameters, tokensPerSec: tps, wallSeconds, plots };
  } finally {
    model.dispose?.();
  }
}
