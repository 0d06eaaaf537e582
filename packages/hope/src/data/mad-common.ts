/**
 * Shared pieces of the MAD synthetic tasks (Poli et al. 2024, "Mechanistic Design and Scaling of
 * Hybrid Architectures"; the generators of the athms/mad-lab repository, re-derived here): the
 * example type, option checks that name the bad option, and small draws from the caller's Rng.
 *
 * Every MAD example is an aligned pair, as in mad-lab: `inputs[i]` is what the model reads at
 * position i and `targets[i]` the id it must output there (−100 where nothing is scored). For the
 * autoregressive tasks (the recalls) targets[i] = inputs[i + 1] at the scored positions; for the
 * copying, compression and memorization tasks the scored outputs sit on blank, query or insert
 * tokens, so the model never reads the answer it must give.
 */
import type { Rng } from './rng.js';

/** Marks an unscored position in {@link MadExample.targets}. */
export const MAD_IGNORE = -100;

/** One MAD example; both arrays have shape [seqLen]. */
export interface MadExample {
  /** Ids the model reads. */
  readonly inputs: Int32Array;
  /** Id to output at each position from inputs[0..i], or {@link MAD_IGNORE}. */
  readonly targets: Int32Array;
}

/** Throws a RangeError naming `name` unless `v` is an integer in [min, max]. */
export function checkInt(name: string, v: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(v) || v < min || v > max)
    throw new RangeError(
      `${name} must be an integer in [${min}, ${max === Number.MAX_SAFE_INTEGER ? '∞' : max}], got ${v}`,
    );
}

/** Throws a RangeError naming `name` unless 0 <= v < 1. */
export function checkFraction(name: string, v: number): void {
  if (!(typeof v === 'number' && v >= 0 && v < 1))
    throw new RangeError(`${name} must be in [0, 1), got ${v}`);
}

/**
 * Turns an autoregressive sequence (`tokens`, `scored[i]` = 1 where tokens[i] is an answer) into
 * an aligned example: inputs = tokens[0..n−1), targets[i] = tokens[i + 1] where scored[i + 1].
 */
export function shiftExample(tokens: readonly number[], scored: readonly boolean[]): MadExample {
  const n = tokens.length - 1;
  const inputs = Int32Array.from(tokens.slice(0, n));
  const targets = new Int32Array(n).fill(MAD_IGNORE);
  for (let i = 0; i < n; i++) if (scored[i + 1]) targets[i] = tokens[i + 1]!;
  return { inputs, targets };
}

/** `count` distinct ids from [lo, hi) in draw order (a uniform ordered draw without replacement). */
export function distinctIds(rng: Rng, lo: number, hi: number, count: number): number[] {
  const pool = Array.from({ length: hi - lo }, (_, i) => lo + i);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const j = i + rng.int(pool.length - i);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    out.push(pool[i]!);
  }
  return out;
}
