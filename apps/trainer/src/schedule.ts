/**
 * Learning-rate schedules: linear warmup from lr/warmup to lr over `warmup` steps, then
 * `cosine` (half cosine down to minLrRatio·lr at the last step), `linear` (straight line down to
 * minLrRatio·lr) or `constant`. Steps are 0-based: step s is the (s+1)-th update.
 */

/** Schedule parameters (a subset of the trainer config). */
export interface ScheduleConfig {
  lr: number;
  steps: number;
  warmup: number;
  schedule: string;
  minLrRatio: number;
}

/**
 * The learning rate for 0-based `step`.
 * @returns lr in (0, cfg.lr]
 */
export function learningRate(step: number, cfg: ScheduleConfig): number {
  const { lr, steps, warmup, schedule, minLrRatio } = cfg;
  if (step < warmup) return (lr * (step + 1)) / warmup;
  if (schedule === 'constant') return lr;
  const span = Math.max(1, steps - 1 - warmup);
  const t = Math.min(1, Math.max(0, (step - warmup) / span)); // 0 → 1 over the decay phase
  const min = lr * minLrRatio;
  if (schedule === 'linear') return lr - (lr - min) * t;
  if (schedule === 'cosine') return min + 0.5 * (lr - min) * (1 + Math.cos(Math.PI * t));
  throw new Error(`unknown schedule "${schedule}"`);
}
