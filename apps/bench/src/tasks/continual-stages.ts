/**
 * Staged training on shifting domains: one model trained with its own language-model loss
 * (`lossAndBackward`: every position scored; Hope's includes its online CMS scheme) and AdamW,
 * stage k on domain k only, the optimizer carried across stages; after each stage, bits per byte
 * (`evalLoss` / ln 2) on fixed held-out windows of every domain seen so far.
 */
import { buildModel, Rng, type LanguageModel } from '@nl/hope';
import { AdamW } from '@nl/optim';
import { fromTypedArray, manualSeed, tidy } from '@nl/tensor';
import { evenWindows, randomWindows, type Domain } from './continual-data.js';
import type { TaskModel } from './types.js';

/** Budget of the staged training. */
export interface StageBudget {
  stepsPerStage: number;
  batch: number;
  /** Bytes predicted per training window (windows are seqLen + 1 bytes). */
  seqLen: number;
  lr: number;
  /** Held-out windows (of seqLen + 1 bytes) scored per domain. */
  evalWindows: number;
}

/** What the staged training measured; `model` is the trained model (the caller disposes it). */
export interface StagesResult {
  model: LanguageModel;
  /** bpb[k][d]: bits per byte on domain d's held-out windows after stage k (d <= k). */
  bpb: number[][];
  /** Mean training loss (nats) of each stage's last step. */
  finalLoss: number[];
  steps: number;
  tokens: number;
  seconds: number;
}

/** Bits per byte of `model` on `n` even windows of `bytes` (one evalLoss call). */
export function heldOutBpb(model: LanguageModel, bytes: Uint8Array, n: number, seqLen: number): number {
  const ids = evenWindows(bytes, n, seqLen + 1);
  return tidy(() => model.evalLoss(fromTypedArray(ids, [n, seqLen + 1]))) / Math.LN2;
}

/** Trains `spec` stage by stage on `domains` (see the module comment). */
export function trainStages(
  spec: TaskModel,
  domains: Domain[],
  budget: StageBudget,
  seed: number,
): StagesResult {
  const started = performance.now();
  manualSeed(seed);
  const model = buildModel(spec.config);
  try {
    const optimizer = new AdamW(model.parameters(), { lr: budget.lr, weightDecay: 0.1 });
    const rng = Rng.fromSeed(seed);
    const bpb: number[][] = [];
    const finalLoss: number[] = [];
    let tokens = 0;
    try {
      domains.forEach((domain, k) => {
        let loss = NaN;
        for (let s = 0; s < budget.stepsPerStage; s++) {
          const ids = randomWindows(rng, domain.train, budget.batch, budget.seqLen + 1); // [B, T+1]
          optimizer.zeroGrad();
          loss = tidy(() => model.lossAndBackward(fromTypedArray(ids, [budget.batch, budget.seqLen + 1])));
          optimizer.step();
          tokens += budget.batch * budget.seqLen;
        }
        finalLoss.push(loss);
        bpb.push(
          domains.slice(0, k + 1).map((d) => heldOutBpb(model, d.heldOut, budget.evalWindows, budget.seqLen)),
        );
      });
    } finally {
      optimizer.dispose(); // its moment tensors
    }
    return {
      model,
      bpb,
      finalLoss,
      steps: budget.stepsPerStage * domains.length,
      tokens,
      seconds: (performance.now() - started) / 1000,
    };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/**
 * Forgetting after stage k: the mean over the domains trained before k of the rise of their bpb
 * since the end of their own stage, bpb[k][d] − bpb[d][d] (undefined for the first stage).
 */
export function forgetting(bpb: number[][], k: number): number | undefined {
  if (k < 1) return undefined;
  let sum = 0;
  for (let d = 0; d < k; d++) sum += bpb[k]![d]! - bpb[d]![d]!;
  return sum / k;
}
