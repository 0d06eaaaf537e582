#!/usr/bin/env node
/**
 * The build step of the root `pnpm train` / `pnpm bench` scripts: `turbo run build
 * --output-logs=errors-only`, with turbo's own output held back. On success nothing is printed,
 * so the first lines a user sees are the CLI's own; on failure everything turbo printed (the
 * failing task's errors included) goes to stderr and its exit code is passed on. On a terminal a
 * "building…" line shows while the build runs longer than a second and is erased when it ends.
 */
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { clearTimeout, setTimeout } from 'node:timers';

const args = ['run', 'build', '--output-logs=errors-only', ...process.argv.slice(2)];
const child = spawn('turbo', args, {
  stdio: ['ignore', 'pipe', 'pipe'],
  shell: process.platform === 'win32',
});
const chunks = [];
child.stdout.on('data', (c) => chunks.push(c));
child.stderr.on('data', (c) => chunks.push(c));
let shown = false;
const timer = setTimeout(() => {
  if (!process.stderr.isTTY) return;
  shown = true;
  process.stderr.write('building the workspace (turbo run build)…');
}, 1000);
let finished = false;
const done = (code, message) => {
  if (finished) return; // a spawn error is followed by 'close'
  finished = true;
  clearTimeout(timer);
  if (shown) process.stderr.write('\r\x1b[K');
  if (code !== 0) {
    process.stderr.write(Buffer.concat(chunks));
    if (message) process.stderr.write(`${message}\n`);
  }
  process.exitCode = code;
};
child.on('error', (e) => done(1, `build: cannot run turbo: ${e.message}`));
child.on('close', (code, signal) =>
  done(code ?? 1, code === null ? `build: turbo stopped by ${signal}` : undefined),
);
