/**
 * Training progress output. On a terminal: a cli-progress bar with step, loss, tokens/s and ETA,
 * with other messages printed above it. Elsewhere (CI, pipes, files): one plain log line every
 * `logInterval` steps and at the last step, no escape codes.
 */
import cliProgress from 'cli-progress';

/** One step's numbers. */
export interface StepInfo {
  step: number;
  loss: number;
  lr: number;
  tokensPerSec: number;
  etaSec: number;
}

/** Where the trainer reports. */
export interface Reporter {
  start(totalSteps: number, firstStep: number): void;
  step(info: StepInfo): void;
  /** A message line (evaluation, checkpoint...), kept above the bar. */
  log(line: string): void;
  stop(): void;
}

/** `3725` → `1h02m05s`, `65` → `1m05s`, `4` → `4s`. */
export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '?';
  const s = Math.round(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}h${pad(m)}m${pad(r)}s` : m > 0 ? `${m}m${pad(r)}s` : `${r}s`;
}

/** Plain log-line text for a step. */
export function formatStep(info: StepInfo, total: number): string {
  return (
    `step ${info.step}/${total} | loss ${info.loss.toFixed(4)} | lr ${info.lr.toExponential(2)} | ` +
    `${Math.round(info.tokensPerSec)} tok/s | eta ${formatDuration(info.etaSec)}`
  );
}

/** Plain line reporter for non-terminal output. */
export class LineReporter implements Reporter {
  private total = 0;
  constructor(
    private readonly write: (s: string) => void,
    private readonly every: number,
  ) {}
  start(totalSteps: number): void {
    this.total = totalSteps;
  }
  step(info: StepInfo): void {
    if (info.step % this.every === 0 || info.step === this.total)
      this.write(formatStep(info, this.total) + '\n');
  }
  log(line: string): void {
    this.write(line + '\n');
  }
  stop(): void {}
}

/** cli-progress bar for terminals. */
export class BarReporter implements Reporter {
  private readonly multi: cliProgress.MultiBar;
  private bar: cliProgress.SingleBar | undefined;
  private stopped = false;

  constructor(private readonly stream: NodeJS.WritableStream) {
    this.multi = new cliProgress.MultiBar(
      {
        format: 'step {value}/{total} {bar} loss {loss} | {tps} tok/s | lr {lr} | ETA {etaText}',
        stream: stream as NodeJS.WriteStream,
        hideCursor: true,
        clearOnComplete: false,
        barsize: 24,
        fps: 5,
        gracefulExit: false, // Ctrl-C belongs to the trainer, which saves a checkpoint first
      },
      cliProgress.Presets.shades_classic,
    );
  }
  start(totalSteps: number, firstStep: number): void {
    this.bar = this.multi.create(totalSteps, firstStep, { loss: '-', tps: '-', lr: '-', etaText: '?' });
  }
  step(info: StepInfo): void {
    this.bar?.update(info.step, {
      loss: info.loss.toFixed(4),
      tps: String(Math.round(info.tokensPerSec)),
      lr: info.lr.toExponential(2),
      etaText: formatDuration(info.etaSec),
    });
  }
  log(line: string): void {
    if (this.stopped) this.stream.write(line + '\n');
    else {
      this.multi.log(line + '\n');
      this.multi.update(); // draw now: a line logged just before stop() would otherwise be lost
    }
  }
  stop(): void {
    if (!this.stopped) this.multi.stop();
    this.stopped = true;
  }
}

/** The reporter that fits `stream`: a bar on a TTY, log lines otherwise. */
export function createReporter(
  stream: NodeJS.WritableStream & { isTTY?: boolean },
  logInterval: number,
): Reporter {
  return stream.isTTY ? new BarReporter(stream) : new LineReporter((s) => stream.write(s), logInterval);
}
