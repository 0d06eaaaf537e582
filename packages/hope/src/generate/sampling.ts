/**
 * Next-token choice from a logits row: greedy (temperature 0) or sampling from
 * softmax(logits / temperature) restricted to the topK largest logits and then to the nucleus
 * (the fewest most-probable tokens whose mass reaches topP, renormalised), with a seeded `Rng`
 * (so a seed reproduces a generation exactly).
 */
import type { Rng } from '../data/rng.js';

/** How to choose the next token. */
export interface SamplingOptions {
  /** 0 = greedy (argmax); > 0 divides the logits before the softmax (default 1). */
  temperature?: number;
  /** Keep only the k largest logits (0 or undefined = all). */
  topK?: number;
  /** Nucleus: keep the fewest most-probable tokens whose probability sums to >= topP (default 1 = all). */
  topP?: number;
}

/** Validated sampling options. */
export interface Sampling {
  temperature: number;
  topK: number;
  topP: number;
}

/** Validates sampling options; errors name the field. */
export function checkSampling(label: string, o: SamplingOptions): Sampling {
  const temperature = o.temperature ?? 1;
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature < 0)
    throw new RangeError(`${label}: temperature must be a finite number >= 0, got ${temperature}`);
  const topK = o.topK ?? 0;
  if (!Number.isInteger(topK) || topK < 0)
    throw new RangeError(`${label}: topK must be an integer >= 0 (0 = all), got ${topK}`);
  const topP = o.topP ?? 1;
  if (typeof topP !== 'number' || !(topP > 0 && topP <= 1))
    throw new RangeError(`${label}: topP must be a number in (0, 1], got ${topP}`);
  return { temperature, topK, topP };
}

/** Index of the largest entry (the first one on ties). */
export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

/**
 * The probabilities sampling draws from: softmax(logits / temperature) over the topK largest
 * logits, then cut to the nucleus of mass topP and renormalised (others 0), in float64.
 * temperature must be > 0.
 */
export function samplingProbs(
  logits: ArrayLike<number>,
  temperature: number,
  topK = 0,
  topP = 1,
): Float64Array {
  const n = logits.length;
  const p = new Float64Array(n);
  let keep = Array.from({ length: n }, (_, i) => i).sort((a, b) => logits[b]! - logits[a]! || a - b);
  if (topK > 0 && topK < n) keep = keep.slice(0, topK);
  let max = -Infinity;
  for (const i of keep) max = Math.max(max, logits[i]!);
  let sum = 0;
  for (const i of keep) {
    p[i] = Math.exp((logits[i]! - max) / temperature);
    sum += p[i]!;
  }
  for (const i of keep) p[i]! /= sum;
  if (topP < 1) {
    // keep is sorted by decreasing probability: cut after the mass first reaches topP.
    let mass = 0;
    let cut = keep.length;
    for (let j = 0; j < keep.length; j++) {
      mass += p[keep[j]!]!;
      if (mass >= topP) {
        cut = j + 1;
        break;
      }
    }
    let kept = 0;
    for (let j = 0; j < keep.length; j++) {
      if (j < cut) kept += p[keep[j]!]!;
      else p[keep[j]!] = 0;
    }
    for (let j = 0; j < cut; j++) p[keep[j]!]! /= kept;
  }
  return p;
}

/** Chooses the next token from `logits` [V]. */
export function sampleToken(
  logits: ArrayLike<number>,
  o: { temperature: number; topK: number; topP?: number },
  rng: Rng,
): number {
  for (let i = 0; i < logits.length; i++)
    if (Number.isNaN(logits[i]!))
      throw new RangeError(`sampleToken: logit ${i} is NaN (the model diverged?)`);
  if (o.temperature === 0) return argmax(logits);
  const p = samplingProbs(logits, o.temperature, o.topK, o.topP ?? 1);
  const u = rng.next();
  let acc = 0;
  let last = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i]! === 0) continue;
    acc += p[i]!;
    last = i;
    if (u < acc) return i;
  }
  return last; // rounding: u ≥ Σp
}
