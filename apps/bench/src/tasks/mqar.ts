/**
 * The MQAR task (multi-query associative recall, Zoology): a model is trained from scratch on
 * `multiQueryRecall` sequences with the loss on the answer positions only (the pairs and the
 * query keys are random, so a loss on every position is dominated by what cannot be predicted),
 * then scored on a fixed held-out set: accuracy = share of answers whose argmax over the whole
 * vocabulary is the right value. Everything is fixed by the seed (model init, batches, eval set).
 */
import {
  buildModel,
  hopePreset,
  multiQueryRecall,
  preset,
  Rng,
  type LanguageModel,
  type MqarOptions,
  type ModelConfigInput,
} from '@nl/hope';
import { AdamW } from '@nl/optim';
import { crossEntropy, fromTypedArray, manualSeed, noGrad, tidy, type Tensor } from '@nl/tensor';

/** A model of the comparison: a name and the config `buildModel` takes. */
export interface TaskModel {
  name: string;
  config: ModelConfigInput;
}

/** Options of one MQAR run. */
export interface MqarRunOptions {
  model: TaskModel;
  task: MqarOptions;
  steps: number;
  batch: number;
  lr: number;
  seed: number;
  /** Held-out sequences scored at the end (and at every `evalEvery` steps when set). */
  evalSequences: number;
  evalEvery?: number;
}

/** Result of one run. */
export interface MqarResult {
  task: 'mqar';
  model: string;
  params: number;
  pairs: number;
  seqLen: number;
  steps: number;
  batch: number;
  lr: number;
  seed: number;
  /** Held-out answer accuracy in [0, 1]. */
  accuracy: number;
  /** Answer-only loss (nats) of the last training batch. */
  finalLoss: number;
  /** [step, accuracy] when `evalEvery` is set. */
  curve: [number, number][];
  seconds: number;
}

/** The tiny preset of each model kind, with the byte vocabulary and the seed. */
export function tinyModels(seed: number): TaskModel[] {
  const base = { vocabSize: 256, seed };
  return [
    { name: 'transformer-tiny', config: preset('transformer', 'tiny', base) },
    { name: 'deltanet-tiny', config: preset('deltanet', 'tiny', base) },
    { name: 'titans-tiny', config: preset('titans', 'tiny', base) },
    { name: 'hope-tiny', config: hopePreset('hope-tiny', base) as ModelConfigInput },
  ];
}

/** `n` sequences as inputs Int32 [n, L] and targets Int32 [n·L] (−100 except at answers). */
function draw(
  rng: Rng,
  task: MqarOptions,
  n: number,
): { inputs: Int32Array; targets: Int32Array; len: number } {
  const first = multiQueryRecall(rng, task);
  const len = first.tokens.length;
  const inputs = new Int32Array(n * len);
  const targets = new Int32Array(n * len).fill(-100);
  for (let b = 0; b < n; b++) {
    const ex = b === 0 ? first : multiQueryRecall(rng, task);
    inputs.set(ex.tokens, b * len);
    // target of input position t is token t+1; answers are masked positions >= 1
    for (let t = 0; t + 1 < len; t++) if (ex.mask[t + 1] === 1) targets[b * len + t] = ex.tokens[t + 1]!;
  }
  return { inputs, targets, len };
}

/** Answer-only loss on a batch (a scalar); its gradients accumulate into the parameters. */
function answerLossBackward(model: LanguageModel, inputs: Tensor, targets: Tensor): Tensor {
  const logits = model.forward(inputs); // [B, L, V]
  const [b, l, v] = logits.shape as [number, number, number];
  const loss = crossEntropy(logits.reshape([b * l, v]), targets, { ignoreIndex: -100 });
  loss.backward();
  return loss;
}

/** Share of answers (targets ≠ −100) whose argmax logit is the target. */
function accuracyOf(logits: Float32Array | Float64Array, targets: Int32Array, v: number): number {
  let hit = 0;
  let n = 0;
  for (let r = 0; r < targets.length; r++) {
    if (targets[r]! < 0) continue;
    n++;
    let best = 0;
    for (let c = 1; c < v; c++) if (logits[r * v + c]! > logits[r * v + best]!) best = c;
    if (best === targets[r]) hit++;
  }
  return n > 0 ? hit / n : 0;
}

function evaluate(model: LanguageModel, set: ReturnType<typeof draw>, n: number): number {
  return tidy(() =>
    noGrad(() => {
      const logits = model.forward(fromTypedArray(set.inputs, [n, set.len]));
      const v = logits.shape[2]!;
      return accuracyOf(logits.dataSync() as Float32Array, set.targets, v);
    }),
  );
}

/** Trains `opts.model` on MQAR and scores it (see the module comment). */
export function runMqar(opts: MqarRunOptions): MqarResult {
  const started = performance.now();
  manualSeed(opts.seed);
  const model = buildModel(opts.model.config);
  const optimizer = new AdamW(model.parameters(), { lr: opts.lr, weightDecay: 0.1 });
  const trainRng = Rng.fromSeed(opts.seed);
  const evalSet = draw(Rng.fromSeed(1_000_003 + opts.seed), opts.task, opts.evalSequences);
  const curve: [number, number][] = [];
  let finalLoss = NaN;
  for (let step = 1; step <= opts.steps; step++) {
    const { inputs, targets, len } = draw(trainRng, opts.task, opts.batch);
    optimizer.zeroGrad();
    finalLoss = tidy(() => {
      const x = fromTypedArray(inputs, [opts.batch, len]);
      const y = fromTypedArray(targets, [opts.batch * len]);
      return answerLossBackward(model, x, y).item();
    });
    optimizer.step();
    if (opts.evalEvery !== undefined && step % opts.evalEvery === 0)
      curve.push([step, evaluate(model, evalSet, opts.evalSequences)]);
  }
  const accuracy = evaluate(model, evalSet, opts.evalSequences);
  const params = model.numParameters();
  model.dispose();
  return {
    task: 'mqar',
    model: opts.model.name,
    params,
    pairs: opts.task.pairs ?? 4,
    seqLen: evalSet.len,
    steps: opts.steps,
    batch: opts.batch,
    lr: opts.lr,
    seed: opts.seed,
    accuracy,
    finalLoss,
    curve,
    seconds: (performance.now() - started) / 1000,
  };
}
