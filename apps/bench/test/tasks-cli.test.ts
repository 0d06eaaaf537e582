// The task suite's command line refuses bad seed and width options by name, with exit code 2 and
// nothing trained (run against the built CLI, dist/cli.js).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [cli, '--suite', 'tasks', ...args], { encoding: 'utf8', timeout: 60_000 });

describe('nl-bench --suite tasks options', () => {
  it.each([
    [['--seeds', '0'], /--seeds must be a positive integer, got "0"/],
    [['--first-seed', '-1'], /--first-seed must be an integer ≥ 0, got "-1"/],
    [['--first-seed', 'x'], /--first-seed must be an integer ≥ 0, got "x"/],
    [['--task', 'mqar', '--widths', '64', 'abc'], /--widths must be positive integers, got 64 abc/],
    [['--task', 'mad', '--widths', '64'], /--widths: mad has no width sweep/],
    [['--task', 'mqar', '--budget', 'long', '--widths', '48'], /has widths 32, 64; --widths named 48/],
    [['--task', 'continual', '--budget', 'wide'], /budget 'wide' is not a budget of continual/],
    [['--task', 'mad', '--budget', 'huge'], /budget 'huge' is not a budget of mad/],
  ])('%j is refused by name', (args, message) => {
    const r = run(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
