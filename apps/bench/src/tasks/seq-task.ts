/**
 * Train-and-score loop shared by the sequence tasks (MQAR, MAD, formal languages, NIAH): a model
 * is trained from scratch with AdamW on batches drawn from a task, the loss on the scored
 * positions only (targets ≠ −100), then scored on fixed held-out sets: token accuracy = share of
 * scored positions whose argmax over the whole vocabulary is the target; sequence accuracy =
 * share of examples with every scored position right. Everything is fixed by the seed.
 */
import { buildModel, Rng, type LanguageModel } from '@nl/hope';
import { AdamW } from '@nl/optim';
import { crossEntropy, fromTypedArray, manualSeed, noGrad, tidy, type Tensor } from '@nl/tensor';
import type { SeqBatch, SeqDraw, TaskModel } from './types.js';

/** One example: ids, and mask[i] = 1 where tokens[i] is scored (predicted from tokens[0..i)). */
export interface MaskedExample {
  tokens: Int32Array;
  mask: Uint8Array;
}

/**
 * Packs examples into a batch: right-padded with `padId` to the longest (padding is after every
 * scored position, so a causal model's scores do not see it); targets −100 except at masks.
 */
export function packExamples(examples: MaskedExample[], padId = 0): SeqBatch {
  if (examples.length === 0) throw new RangeError('packExamples: no examples');
  const len = Math.max(...examples.map((e) => e.tokens.length));
  const n = examples.length;
  const inputs = new Int32Array(n * len).fill(padId);
  const targets = new Int32Array(n * len).fill(-100);
  examples.forEach((ex, b) => {
    if (ex.mask.length !== ex.tokens.length)
      throw new RangeError(
        `packExamples: example ${b} has ${ex.tokens.length} tokens but ${ex.mask.length} mask entries`,
      );
    if (ex.mask[0] === 1)
      throw new RangeError(`packExamples: example ${b} scores position 0, which has no context`);
    inputs.set(ex.tokens, b * len);
    // the target of input position t is token t + 1
    for (let t = 0; t + 1 < ex.tokens.length; t++)
      if (ex.mask[t + 1] === 1) targets[b * len + t] = ex.tokens[t + 1]!;
  });
  return { inputs, targets, n, len };
}

/** A held-out set to score: a name, the swept value it stands for, and how to draw it. */
export interface EvalSpec {
  name: string;
  x?: number;
  draw: SeqDraw;
  /** Examples scored. */
  n: number;
}

/** Options of {@link trainSeqTask}. */
export interface SeqTaskOptions {
  model: TaskModel;
  train: SeqDraw;
  evals: EvalSpec[];
  steps: number;
  batch: number;
  lr: number;
  seed: number;
  weightDecay?: number;
  /** Examples per forward when scoring (bounds memory at long lengths). Default 16. */
  evalBatch?: number;
  /** Scores evals[0] every this many steps into `curve`. */
  evalEvery?: number;
  /**
   * Errors a score set may end with instead of ending the run: returns a message for an error to
   * absorb (that set scores 0 and `scoreErrors` names it; the model is trained once whatever
   * fails), undefined for one to throw.
   */
  absorbScoreError?: (e: unknown) => string | undefined;
}

/** Scores of one held-out set. */
export interface EvalScore {
  name: string;
  x?: number;
  tokenAccuracy: number;
  sequenceAccuracy: number;
  len: number;
}

export interface SeqTaskResult {
  model: string;
  params: number;
  steps: number;
  tokens: number;
  /** Scored-positions loss (nats) of the last training batch. */
  finalLoss: number;
  scores: EvalScore[];
  /** [step, token accuracy on evals[0]] when evalEvery is set. */
  curve: [number, number][];
  seconds: number;
  /** Per score set, the absorbed error that stopped it (with `absorbScoreError`), else undefined. */
  scoreErrors: (string | undefined)[];
}

/** Scored-positions loss of a batch (a scalar); its gradients accumulate into the parameters. */
function maskedLossBackward(model: LanguageModel, batch: SeqBatch): number {
  return tidy(() => {
    const logits = model.forward(fromTypedArray(batch.inputs, [batch.n, batch.len])); // [n, L, V]
    const v = logits.shape[2]!;
    const loss: Tensor = crossEntropy(
      logits.reshape([batch.n * batch.len, v]),
      fromTypedArray(batch.targets, [batch.n * batch.len]),
      { ignoreIndex: -100 },
    );
    loss.backward();
    return loss.item();
  });
}

/** Token and sequence accuracy of the model on a batch (argmax over the whole vocabulary). */
export function scoreBatch(
  model: LanguageModel,
  batch: SeqBatch,
): { hits: number; scored: number; seqHits: number; seqs: number } {
  const logits = tidy(() =>
    noGrad(() =>
      model
        .forward(fromTypedArray(batch.inputs, [batch.n, batch.len]))
        .to('cpu')
        .dataSync(),
    ),
  ); // [n, L, V], the scoring's one device -> host read
  const v = logits.length / (batch.n * batch.len);
  let hits = 0;
  let scored = 0;
  let seqHits = 0;
  let seqs = 0;
  for (let b = 0; b < batch.n; b++) {
    let all = true;
    let any = false;
    for (let t = 0; t < batch.len; t++) {
      const r = b * batch.len + t;
      const want = batch.targets[r]!;
      if (want < 0) continue;
      any = true;
      let best = 0;
      for (let c = 1; c < v; c++) if (logits[r * v + c]! > logits[r * v + best]!) best = c;
      scored++;
      if (best === want) hits++;
      else all = false;
    }
    if (any) {
      seqs++;
      if (all) seqHits++;
    }
  }
  return { hits, scored, seqHits, seqs };
}

/** The score of a set that could not be scored: 0 everywhere. */
export const zeroScore = (spec: EvalSpec): EvalScore => ({
  name: spec.name,
  ...(spec.x === undefined ? {} : { x: spec.x }),
  tokenAccuracy: 0,
  sequenceAccuracy: 0,
  len: 0,
});

function evaluate(model: LanguageModel, spec: EvalSpec, seed: number, evalBatch: number): EvalScore {
  const rng = Rng.fromSeed(1_000_003 + seed); // held-out: a stream the training never draws from
  let hits = 0;
  let scored = 0;
  let seqHits = 0;
  let seqs = 0;
  let len = 0;
  for (let done = 0; done < spec.n; done += evalBatch) {
    const batch = spec.draw(rng, Math.min(evalBatch, spec.n - done));
    len = Math.max(len, batch.len);
    const s = scoreBatch(model, batch);
    hits += s.hits;
    scored += s.scored;
    seqHits += s.seqHits;
    seqs += s.seqs;
  }
  return {
    name: spec.name,
    ...(spec.x === undefined ? {} : { x: spec.x }),
    tokenAccuracy: scored > 0 ? hits / scored : 0,
    sequenceAccuracy: seqs > 0 ? seqHits / seqs : 0,
    len,
  };
}

/** Trains `opts.model` on `opts.train` and scores it on every eval set (see the module comment). */
export function trainSeqTask(opts: SeqTaskOptions): SeqTaskResult {
  const started = performance.now();
  if (!(opts.steps >= 0 && opts.batch >= 1 && opts.evals.length >= 1))
    throw new RangeError('trainSeqTask: needs steps >= 0, batch >= 1 and at least one eval set');
  manualSeed(opts.seed);
  const model = buildModel(opts.model.config);
  const optimizer = new AdamW(model.parameters(), { lr: opts.lr, weightDecay: opts.weightDecay ?? 0.1 });
  try {
    const trainRng = Rng.fromSeed(opts.seed);
    const evalBatch = opts.evalBatch ?? 16;
    const curve: [number, number][] = [];
    let finalLoss = NaN;
    let tokens = 0;
    for (let step = 1; step <= opts.steps; step++) {
      const batch = opts.train(trainRng, opts.batch);
      tokens += batch.n * batch.len;
      optimizer.zeroGrad();
      finalLoss = maskedLossBackward(model, batch);
      optimizer.step();
      if (opts.evalEvery !== undefined && step % opts.evalEvery === 0)
        curve.push([step, evaluate(model, opts.evals[0]!, opts.seed, evalBatch).tokenAccuracy]);
    }
    const scoreErrors: (string | undefined)[] = opts.evals.map(() => undefined);
    const scores = opts.evals.map((e, i) => {
      try {
        return evaluate(model, e, opts.seed, evalBatch);
      } catch (err) {
        const absorbed = opts.absorbScoreError?.(err);
        if (absorbed === undefined) throw err;
        scoreErrors[i] = absorbed;
        return zeroScore(e);
      }
    });
    return {
      scoreErrors,
      model: opts.model.name,
      params: model.numParameters(),
      steps: opts.steps,
      tokens,
      finalLoss,
      scores,
      curve,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    optimizer.dispose(); // its moment tensors
    model.dispose();
  }
}
