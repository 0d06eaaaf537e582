/**
 * Learning-rate schedules (multipliers of a base lr as a function of the step) and a helper
 * that writes `baseLr * f(step)` into every group's `lr` (groups may keep their own base lr).
 */

/** A schedule: step (0-based) → multiplier of the base learning rate. */
export type Schedule = (step: number) => number;

/** Constant multiplier 1. */
export const constantSchedule = (): Schedule => () => 1;

/**
 * Linear warm-up from 0 to 1 over `warmup` steps, then cosine decay to `minRatio` at `total`.
 * @param warmup warm-up steps (>= 0); @param total total steps (> warmup); @param minRatio floor (default 0)
 */
export function warmupCosineSchedule(warmup: number, total: number, minRatio = 0): Schedule {
  if (!Number.isInteger(warmup) || warmup < 0)
    throw new RangeError(`warmupCosineSchedule: warmup must be an integer >= 0, got ${warmup}`);
  if (!Number.isInteger(total) || total <= warmup)
    throw new RangeError(`warmupCosineSchedule: total must be an integer > warmup, got ${total}`);
  if (!(minRatio >= 0 && minRatio <= 1))
    throw new RangeError(`warmupCosineSchedule: minRatio must be in [0, 1], got ${minRatio}`);
  return (step) => {
    if (step < warmup) return (step + 1) / warmup;
    const p = Math.min(1, (step - warmup) / (total - warmup));
    return minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * p));
  };
}

/** Multiply by `gamma` every `stepSize` steps (torch StepLR). */
export function stepSchedule(stepSize: number, gamma = 0.1): Schedule {
  if (!Number.isInteger(stepSize) || stepSize < 1)
    throw new RangeError(`stepSchedule: stepSize must be an integer >= 1, got ${stepSize}`);
  if (!(gamma > 0)) throw new RangeError(`stepSchedule: gamma must be > 0, got ${gamma}`);
  return (step) => gamma ** Math.floor(step / stepSize);
}

/**
 * Sets `group.lr = baseLr[i] * schedule(step)` on every group. Base rates are captured on the
 * first call (per optimizer) unless given.
 */
export class LRScheduler {
  private readonly base: number[];
  /** @param optimizer anything with `paramGroups: {lr}[]`; @param schedule the multiplier */
  constructor(
    private readonly optimizer: { paramGroups: Array<{ lr: number }> },
    private readonly schedule: Schedule,
  ) {
    this.base = optimizer.paramGroups.map((g) => g.lr);
  }
  /** Applies the schedule for `step` (0-based) and returns the first group's lr. */
  apply(step: number): number {
    const f = this.schedule(step);
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = this.base[i]! * f));
    return this.optimizer.paramGroups[0]!.lr;
  }
}
