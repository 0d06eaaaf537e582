/**
 * Draws of the S-NIAH family: a training curriculum (lengths growing by stage, the three
 * variants mixed) and the held-out sets (one variant at one length). The SOTU haystack of
 * S-NIAH-2/3 comes from the training addresses for training and from the held-out addresses
 * (every 10th, the corpus split's rule) for scoring, so no scored haystack was seen in training.
 */
import { loadSotu, Rng, singleNeedle, type NiahVariant } from '@nl/hope';
import { packExamples } from './seq-task.js';
import type { SeqDraw } from './types.js';

/** One stage of the curriculum: `steps` training steps at examples of `length` bytes. */
export interface CurriculumStage {
  length: number;
  steps: number;
}

/** SOTU as haystack bytes: `train` (addresses i mod 10 ≠ 9) and `heldOut` (i mod 10 = 9). */
export interface NiahFillers {
  train: Uint8Array;
  heldOut: Uint8Array;
}

let cached: NiahFillers | null = null;

/** The SOTU fillers (read once per process). */
export function sotuFillers(): NiahFillers {
  if (cached === null) {
    const docs = loadSotu();
    const enc = new TextEncoder();
    const join = (keep: (i: number) => boolean) =>
      enc.encode(
        docs
          .filter((_, i) => keep(i))
          .map((d) => d.text)
          .join('\n\n'),
      );
    cached = { train: join((i) => i % 10 !== 9), heldOut: join((i) => i % 10 === 9) };
  }
  return cached;
}

/** Total steps of a curriculum. */
export const curriculumSteps = (stages: CurriculumStage[]): number => stages.reduce((a, s) => a + s.steps, 0);

/**
 * The training draw: call k (0-based) draws at the length of the stage step k falls in (the
 * last stage's length after the end); each example's variant is drawn uniformly from 1–3.
 * Stateful (counts its calls): make one per training run.
 */
export function curriculumDraw(stages: CurriculumStage[], filler: Uint8Array): SeqDraw {
  if (stages.length === 0) throw new RangeError('curriculumDraw: no stages');
  let call = 0;
  return (rng: Rng, n: number) => {
    let k = call++;
    let stage = stages[stages.length - 1]!;
    for (const s of stages) {
      if (k < s.steps) {
        stage = s;
        break;
      }
      k -= s.steps;
    }
    const examples = Array.from({ length: n }, () =>
      singleNeedle(rng, { variant: (1 + rng.int(3)) as NiahVariant, length: stage.length, filler }),
    );
    return packExamples(examples);
  };
}

/**
 * A held-out draw: `variant` at `length` bytes. Each call forks its own stream from one word of
 * `rng` mixed with (variant, length), so held-out sets scored from the same seed (one per variant
 * and length) hide different values instead of repeating the same draws.
 */
export function niahDraw(variant: NiahVariant, length: number, filler: Uint8Array): SeqDraw {
  const salt = Math.imul(variant, 0x9e3779b1) ^ length;
  return (rng: Rng, n: number) => {
    const own = Rng.fromSeed((rng.nextU32() ^ salt) >>> 0);
    return packExamples(Array.from({ length: n }, () => singleNeedle(own, { variant, length, filler })));
  };
}
