// Checkpoint folders next to other processes (issue 15): a reader next to a writer that
// checkpoints in a loop never sees a false "corrupt"/"truncated"/"missing" error nor a mix of two
// generations; a write removes only its own and dead processes' temporary folders; the run lock
// (`<dir>.lock`) keeps a second writer out and a stale lock of a dead process is taken over.
// The writer runs as a real child process: folder.ts and lock.ts are transpiled with TypeScript
// into a temporary ES module folder (they only import node: modules).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ck from '../src/checkpoint/index.js';
import {
  CheckpointError,
  readCheckpoint,
  writeCheckpoint,
  type CheckpointContents,
} from '../src/checkpoint/index.js';

const acquireCheckpointLock: typeof ck.acquireCheckpointLock = (...a) => ck.acquireCheckpointLock(...a);

const srcDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'checkpoint');
let root: string;
let lib: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'nl-ckpt-conc-'));
  lib = join(root, 'lib');
  mkdirSync(lib);
  writeFileSync(join(lib, 'package.json'), '{"type":"module"}');
  for (const f of ['folder.ts', 'lock.ts']) {
    if (!existsSync(join(srcDir, f))) continue;
    const out = ts.transpileModule(readFileSync(join(srcDir, f), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    writeFileSync(join(lib, f.replace(/\.ts$/, '.js')), out.outputText);
  }
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Model bytes derived from the step: a reader can tell whether files of two steps got mixed. */
const modelFor = (step: number) => new Uint8Array(1000 + (step % 7) * 9000).fill(step % 251);
const contents = (step: number): CheckpointContents => ({
  model: modelFor(step),
  config: { step },
  optimizer: { step },
  state: { step, rng: [step] },
  extra: { 'optimizer.safetensors': Uint8Array.of(step % 256, step % 7) },
});

/** A child process that checkpoints `dir` in a loop for `ms` milliseconds. */
function startWriter(dir: string, ms: number): ChildProcess {
  const script = `
    import { writeCheckpoint } from ${JSON.stringify(join(lib, 'folder.js'))};
    const modelFor = (step) => new Uint8Array(1000 + (step % 7) * 9000).fill(step % 251);
    const end = Date.now() + ${ms};
    let step = 1, errors = 0;
    while (Date.now() < end) {
      try {
        writeCheckpoint(${JSON.stringify(dir)}, { model: modelFor(step), config: { step }, optimizer: { step },
          state: { step, rng: [step] }, extra: { 'optimizer.safetensors': Uint8Array.of(step % 256, step % 7) } });
      } catch (e) { errors++; console.error(String(e.message)); }
      step++;
    }
    console.log(JSON.stringify({ steps: step - 1, errors }));
  `;
  return spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

const finished = (p: ChildProcess): Promise<{ out: string; err: string; code: number | null }> =>
  new Promise((resolve) => {
    let out = '';
    let err = '';
    p.stdout!.on('data', (d) => (out += d));
    p.stderr!.on('data', (d) => (err += d));
    p.on('close', (code) => resolve({ out, err, code }));
  });

/** A pid that is certainly not running: a child that has exited. */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '0']).pid!;

describe('checkpoints next to other processes', () => {
  it('a reader next to a writer checkpointing in a loop sees only whole, consistent checkpoints', async () => {
    const dir = join(root, 'rw', 'ckpt');
    writeCheckpoint(dir, contents(0));
    const writer = startWriter(dir, 2500);
    const done = finished(writer);
    let exited = false;
    void done.then(() => (exited = true));
    let reads = 0;
    const errors: string[] = [];
    while (!exited) {
      try {
        const c = readCheckpoint(dir);
        const step = c.state.step;
        reads++;
        // every file of one read belongs to the same generation
        if (
          c.config.step !== step ||
          c.optimizer.step !== step ||
          c.extra['optimizer.safetensors']![0] !== step % 256 ||
          c.model.length !== modelFor(step).length ||
          c.model[0] !== step % 251
        )
          errors.push(`mixed generations at step ${step}`);
      } catch (e) {
        errors.push((e as Error).message);
      }
      await new Promise((r) => setImmediate(r));
    }
    const w = await done;
    expect(w.err).toBe('');
    const { steps, errors: writeErrors } = JSON.parse(w.out) as { steps: number; errors: number };
    expect(writeErrors).toBe(0);
    expect(steps).toBeGreaterThan(20);
    expect(reads).toBeGreaterThan(20);
    expect(errors.slice(0, 5)).toEqual([]);
  }, 20_000);

  it('a write removes its own and dead processes’ temporary folders, never a live one', () => {
    const dir = join(root, 'tmps', 'ckpt');
    writeCheckpoint(dir, contents(1));
    const live = join(root, 'tmps', `ckpt.tmp-${process.ppid}-0`);
    const dead = join(root, 'tmps', `ckpt.tmp-${deadPid()}-3`);
    const own = join(root, 'tmps', `ckpt.tmp-${process.pid}-99`);
    for (const d of [live, dead, own]) {
      mkdirSync(d);
      writeFileSync(join(d, 'model.safetensors'), 'x');
    }
    writeCheckpoint(dir, contents(2));
    expect(existsSync(live)).toBe(true);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(own)).toBe(false);
    expect(readCheckpoint(dir).state.step).toBe(2);
  });

  it('the run lock: a second holder is refused naming the folder and the holder; release frees it', () => {
    const dir = join(root, 'lock', 'ckpt');
    const lock = acquireCheckpointLock(dir);
    expect(existsSync(`${dir}.lock`)).toBe(true);
    const held = JSON.parse(readFileSync(`${dir}.lock`, 'utf8'));
    expect(held).toMatchObject({ pid: process.pid, host: hostname() });
    expect(typeof held.started).toBe('string');
    let err: unknown;
    try {
      acquireCheckpointLock(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toContain(dir);
    expect((err as Error).message).toContain(`pid ${process.pid} on ${hostname()}`);
    lock.release();
    expect(existsSync(`${dir}.lock`)).toBe(false);
    acquireCheckpointLock(dir).release();
  });

  it('a stale lock (its pid is dead) is taken over with a message', () => {
    const dir = join(root, 'stale', 'ckpt');
    mkdirSync(dirname(dir), { recursive: true });
    const pid = deadPid();
    writeFileSync(
      `${dir}.lock`,
      JSON.stringify({ pid, host: hostname(), started: '2020-01-01T00:00:00.000Z' }),
    );
    const messages: string[] = [];
    const lock = acquireCheckpointLock(dir, { onWarning: (m) => messages.push(m) });
    expect(messages.join('\n')).toMatch(new RegExp(`stale lock .*pid ${pid}.*not running`));
    expect(JSON.parse(readFileSync(`${dir}.lock`, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('writeCheckpoint refuses a folder locked by another live process', () => {
    const dir = join(root, 'other', 'ckpt');
    mkdirSync(dirname(dir), { recursive: true });
    writeFileSync(
      `${dir}.lock`,
      JSON.stringify({ pid: process.ppid, host: hostname(), started: new Date().toISOString() }),
    );
    expect(() => writeCheckpoint(dir, contents(1))).toThrow(
      new RegExp(`${dir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is locked by pid ${process.ppid}`),
    );
    expect(existsSync(dir)).toBe(false);
    expect(readdirSync(dirname(dir))).toEqual(['ckpt.lock']);
  });
});
