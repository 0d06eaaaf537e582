/**
 * The examples/ projects run as their READMEs say, on a tiny budget: each script is started with
 * `node` in its own folder (so @nl/* resolve like in a user's project, through the built dist/),
 * and the JSON summary it prints last is checked against what the example claims.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const examples = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples');
const built = existsSync(join(examples, '..', 'packages', 'hope', 'dist', 'index.js'));

/** Runs `node <script> ...args` in examples/<name>; returns the last stdout line parsed as JSON. */
function run(name: string, args: string[], env: Record<string, string> = {}): Record<string, any> {
  const r = spawnSync(process.execPath, args, {
    cwd: join(examples, name),
    env: { ...process.env, ...env },
    encoding: 'utf8',
    input: '',
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`${name}: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!);
}

describe.skipIf(!built)('examples/', () => {
  it('every example has package.json, README.md and the script its README runs', () => {
    const names = readdirSync(examples).filter((n) => existsSync(join(examples, n, 'package.json')));
    expect(names.sort()).toEqual(['hope-session-stream', 'optim-plain-js', 'optim-tfjs', 'train-own-text']);
    for (const n of names) expect(existsSync(join(examples, n, 'README.md')), n).toBe(true);
  });

  it('optim-plain-js: Muon and M3 lower the held-out error, with and without the addon (same numbers)', () => {
    const args = ['train.mjs', '--steps', '60', '--optimizers', 'muon,m3'];
    const withAddon = run('optim-plain-js', args);
    const pureJs = run('optim-plain-js', args, { NL_NATIVE_DISABLE: '1' });
    for (const name of ['muon', 'm3']) {
      expect(withAddon[name].last).toBeLessThan(withAddon[name].first * 0.7);
      expect(pureJs[name].first).toBe(withAddon[name].first);
      expect(Math.abs(pureJs[name].last - withAddon[name].last)).toBeLessThan(1e-4);
    }
  });

  it('optim-tfjs: Muon and M3 train a tfjs model; @nl/optim Adam through the adapter == tfjs Adam', () => {
    // without the addon, as where only tfjs runs
    const r = run('optim-tfjs', ['train.mjs', '--steps', '40'], { NL_NATIVE_DISABLE: '1' });
    for (const name of ['muon', 'm3', 'nl-adam', 'tf-adam'])
      expect(r[name].last).toBeLessThan(r[name].first * 0.7);
    expect(Math.abs(r['nl-adam'].last - r['tf-adam'].last)).toBeLessThan(1e-4 * r['tf-adam'].last);
  });

  it('hope-session-stream: the stream lowers the probe loss; rollback restores it exactly', () => {
    const r = run('hope-session-stream', ['stream.mjs', '--chunks', '4', '--chunk-bytes', '96']);
    expect(r.chunks).toBe(4);
    expect(r.probeAfter).toBeLessThan(r.probeBefore);
    expect(r.probeNoisy).not.toBe(r.probeAfter);
    expect(r.probeRolledBack).toBe(r.probeAfter);
  });

  it('train-own-text: trains on the sample folder, lowers validation loss, writes a checkpoint', async () => {
    const out = mkdtempSync(join(tmpdir(), 'nl-example-'));
    const r = run('train-own-text', ['train.mjs', 'my-texts', '--steps', '30', '--out', out]);
    expect(r.last).toBeLessThan(r.first);
    const { loadCheckpoint } = await import('@nl/hope');
    const ck = loadCheckpoint(r.checkpoint);
    expect(ck.model.numParameters()).toBeGreaterThan(0);
  });
});
