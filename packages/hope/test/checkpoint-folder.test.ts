// Checkpoint folders: write/read round trip, atomic replacement that keeps the previous
// checkpoint on failure, recovery after a crash between the two renames, and clear errors for
// missing, truncated, corrupt or foreign folders.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CheckpointError,
  checkpointExists,
  readCheckpoint,
  writeCheckpoint,
  type CheckpointContents,
} from '../src/index.js';

const contents = (step: number): CheckpointContents => ({
  model: Uint8Array.from({ length: 64 }, (_, i) => (i * step) % 256),
  config: { model: 'bigram', seqLen: 8 },
  optimizer: { name: 'sgd', lr: 0.1 },
  state: { step, rng: [1, 2, 3, step] },
  extra: { 'optimizer.safetensors': Uint8Array.of(step, 9, 9) },
});

describe('checkpoint folders', () => {
  let root: string;
  let dir: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'nl-ckpt-'));
    dir = join(root, 'run', 'ckpt');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('round-trips every file and lists only the checkpoint in the parent', () => {
    expect(checkpointExists(dir)).toBe(false);
    writeCheckpoint(dir, contents(3));
    expect(checkpointExists(dir)).toBe(true);
    const c = readCheckpoint(dir);
    expect(Array.from(c.model)).toEqual(Array.from(contents(3).model));
    expect(c.config).toEqual({ model: 'bigram', seqLen: 8 });
    expect(c.optimizer).toEqual({ name: 'sgd', lr: 0.1 });
    expect(c.state).toEqual({ step: 3, rng: [1, 2, 3, 3] });
    expect(Array.from(c.extra['optimizer.safetensors'])).toEqual([3, 9, 9]);
    expect(c.path).toBe(dir);
    expect(readdirSync(dir).sort()).toEqual([
      'config.json',
      'manifest.json',
      'model.safetensors',
      'optimizer.json',
      'optimizer.safetensors',
      'state.json',
    ]);
    expect(readdirSync(join(root, 'run'))).toEqual(['ckpt']);
  });

  it('replaces an older checkpoint and leaves no temporary or .old folder', () => {
    writeCheckpoint(dir, contents(1));
    writeCheckpoint(dir, contents(2));
    expect(readCheckpoint(dir).state.step).toBe(2);
    expect(readdirSync(join(root, 'run'))).toEqual(['ckpt']);
  });

  it('keeps the previous checkpoint when a write fails, and cleans up', () => {
    writeCheckpoint(dir, contents(1));
    const bad = contents(2);
    bad.config = { big: 1n } as unknown as Record<string, unknown>; // JSON.stringify throws on BigInt, after model.safetensors is written
    expect(() => writeCheckpoint(dir, bad)).toThrow(CheckpointError);
    expect(readCheckpoint(dir).state.step).toBe(1);
    expect(readdirSync(join(root, 'run'))).toEqual(['ckpt']);
    expect(() => writeCheckpoint(dir, { ...contents(2), state: { step: -1, rng: null } })).toThrow(
      /non-negative integer/,
    );
    expect(() =>
      writeCheckpoint(dir, { ...contents(2), extra: { 'model.safetensors': new Uint8Array(1) } }),
    ).toThrow(/invalid extra file name/);
    expect(() => writeCheckpoint(dir, { ...contents(2), extra: { '../x': new Uint8Array(1) } })).toThrow(
      /invalid extra file name/,
    );
    expect(readCheckpoint(dir).state.step).toBe(1);
  });

  it('removes temp folders left by a killed writer', () => {
    mkdirSync(join(root, 'run'), { recursive: true });
    mkdirSync(join(root, 'run', 'ckpt.tmp-999-0'));
    writeFileSync(join(root, 'run', 'ckpt.tmp-999-0', 'model.safetensors'), 'half');
    writeCheckpoint(dir, contents(1));
    expect(readdirSync(join(root, 'run'))).toEqual(['ckpt']);
  });

  it('falls back to <dir>.old after a crash between the two renames, then writes over it', () => {
    writeCheckpoint(dir, contents(4));
    renameSync(dir, `${dir}.old`);
    expect(checkpointExists(dir)).toBe(true);
    const c = readCheckpoint(dir);
    expect(c.state.step).toBe(4);
    expect(c.path).toBe(`${dir}.old`);
    writeCheckpoint(dir, contents(5));
    expect(readCheckpoint(dir).state.step).toBe(5);
  });

  it('a parent path that is a file gives a CheckpointError', () => {
    writeFileSync(join(root, 'afile'), 'x');
    expect(() => writeCheckpoint(join(root, 'afile', 'ckpt'), contents(1))).toThrow(
      /cannot prepare the parent folder/,
    );
  });

  it('refuses to replace a folder that is not a checkpoint', () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'precious.txt'), 'keep me');
    expect(() => writeCheckpoint(dir, contents(1))).toThrow(/not a checkpoint folder/);
    expect(readFileSync(join(dir, 'precious.txt'), 'utf8')).toBe('keep me');
  });

  describe('read errors name the problem', () => {
    beforeEach(() => writeCheckpoint(dir, contents(7)));

    it('missing folder', () => {
      expect(() => readCheckpoint(join(root, 'nope'))).toThrow(/nope does not exist/);
    });
    it('missing manifest', () => {
      rmSync(join(dir, 'manifest.json'));
      expect(() => readCheckpoint(dir)).toThrow(/manifest\.json is missing/);
    });
    it('missing file', () => {
      rmSync(join(dir, 'optimizer.json'));
      expect(() => readCheckpoint(dir)).toThrow(/optimizer\.json is missing/);
    });
    it('truncated weights', () => {
      writeFileSync(join(dir, 'model.safetensors'), new Uint8Array(10));
      expect(() => readCheckpoint(dir)).toThrow(/model\.safetensors has 10 bytes, manifest says 64/);
    });
    it('flipped byte', () => {
      const b = readFileSync(join(dir, 'model.safetensors'));
      b[5] ^= 1;
      writeFileSync(join(dir, 'model.safetensors'), b);
      expect(() => readCheckpoint(dir)).toThrow(/model\.safetensors does not match its SHA-256/);
    });
    it('corrupt manifest', () => {
      writeFileSync(join(dir, 'manifest.json'), '{"format": ');
      expect(() => readCheckpoint(dir)).toThrow(/manifest\.json is not valid JSON/);
      writeFileSync(join(dir, 'manifest.json'), '{"format": "other", "files": {}}');
      expect(() => readCheckpoint(dir)).toThrow(/not a nl-checkpoint\/1 manifest/);
    });
    it('checkpointExists is false for a plain folder', () => {
      rmSync(join(dir, 'manifest.json'));
      expect(checkpointExists(dir)).toBe(false);
      expect(existsSync(dir)).toBe(true);
    });
  });
});
