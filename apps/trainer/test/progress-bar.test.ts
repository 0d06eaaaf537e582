// The terminal progress bar (cli-progress) on a stream that says it is a TTY: it shows step,
// loss, tokens/s and ETA; messages logged during the run and after it appear in the output.
import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { BarReporter, LineReporter, createReporter } from '../src/progress.js';

class FakeTty extends Writable {
  isTTY = true;
  columns = 140;
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
  cursorTo(): boolean {
    return true;
  }
  clearLine(): boolean {
    return true;
  }
  moveCursor(): boolean {
    return true;
  }
  clearScreenDown(): boolean {
    return true;
  }
}

it('picks the bar on a TTY and log lines elsewhere', () => {
  const tty = new FakeTty();
  const bar = createReporter(tty as unknown as NodeJS.WritableStream & { isTTY: boolean }, 10);
  expect(bar).toBeInstanceOf(BarReporter);
  bar.stop();
  const pipe = Object.assign(new FakeTty(), { isTTY: false });
  expect(createReporter(pipe, 10)).toBeInstanceOf(LineReporter);
});

it('renders step, loss, tokens/s and ETA, and keeps logged lines', () => {
  const tty = new FakeTty();
  const r = new BarReporter(tty);
  r.start(5, 0);
  for (let s = 1; s <= 5; s++)
    r.step({ step: s, loss: 2 - s / 10, lr: 1e-3, tokensPerSec: 1234, etaSec: 65 - s });
  r.log('step 5: validation 1.2345 bits per byte');
  r.stop();
  r.log('after the bar');
  expect(tty.text).toMatch(/step 5\/5 .* loss 1\.5000 \| 1234 tok\/s \| lr 1\.00e-3 \| ETA 1m00s/);
  expect(tty.text).toContain('step 5: validation 1.2345 bits per byte');
  expect(tty.text).toContain('after the bar\n');
});
