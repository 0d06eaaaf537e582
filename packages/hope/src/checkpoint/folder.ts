/**
 * Checkpoint folders on disk, written atomically. A checkpoint is a folder holding
 *
 *   model.safetensors   the weights, bytes produced by the caller (e.g. @nl/tensor's writer)
 *   config.json         the run/model config (plain JSON object)
 *   optimizer.json      optimizer hyperparameters and scalar state (plain JSON object)
 *   state.json          `{ step, rng, ... }`: training progress and RNG state
 *   <extra files>       optional further binary files (e.g. optimizer.safetensors)
 *   manifest.json       written last: format tag, and each file's byte size and SHA-256
 *
 * Writing: everything goes into a fresh sibling folder `<dir>.tmp-<pid>-<n>`; each file and the
 * folder are fsynced; then the old `<dir>` is renamed to `<dir>.old`, the new folder renamed to
 * `<dir>`, the parent fsynced, and `<dir>.old` removed. A run killed at any point leaves either the
 * previous complete checkpoint (as `<dir>`, or as `<dir>.old` if killed between the two renames,
 * which {@link readCheckpoint} falls back to) or the new one — never a half-written folder. On an
 * error the previous checkpoint is put back and the temporary folder removed.
 * Reading checks the manifest, sizes, hashes and JSON shapes and names the bad file in its error.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Manifest format tag; bumped if the layout changes. */
export const CHECKPOINT_FORMAT = 'nl-checkpoint/1';

/** state.json: step and RNG state are required, anything else JSON is kept. */
export interface CheckpointState {
  /** Optimizer steps completed. */
  step: number;
  /** RNG state(s) needed to continue exactly (shape chosen by the caller). */
  rng: unknown;
  [key: string]: unknown;
}

/** What a checkpoint holds. */
export interface CheckpointContents {
  /** Bytes of model.safetensors. */
  model: Uint8Array;
  config: Record<string, unknown>;
  optimizer: Record<string, unknown>;
  state: CheckpointState;
  /** Further binary files by name (letters, digits, `.`, `_`, `-`; not a reserved name). */
  extra?: Record<string, Uint8Array>;
}

/** A checkpoint read back, plus where it came from. */
export interface LoadedCheckpoint extends CheckpointContents {
  extra: Record<string, Uint8Array>;
  /** The folder actually read (`<dir>` or, after a crash between renames, `<dir>.old`). */
  path: string;
}

/** Missing, corrupt or unwritable checkpoint. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

interface Manifest {
  format: string;
  files: Record<string, { bytes: number; sha256: string }>;
}

const RESERVED = ['model.safetensors', 'config.json', 'optimizer.json', 'state.json', 'manifest.json'];
const EXTRA_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
let tmpCounter = 0;

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function writeFileSynced(path: string, data: Uint8Array): void {
  const fd = openSync(path, 'wx');
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function fsyncDir(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } catch {
    // some file systems refuse fsync on a directory; the renames are still atomic there
  } finally {
    closeSync(fd);
  }
}

/** Validates the contents; JSON files are encoded lazily, while being written. */
function encodeFiles(c: CheckpointContents): Map<string, () => Uint8Array> {
  if (!(c.model instanceof Uint8Array))
    throw new CheckpointError('checkpoint: model must be the Uint8Array bytes of model.safetensors');
  for (const [k, v] of [
    ['config', c.config],
    ['optimizer', c.optimizer],
    ['state', c.state],
  ] as const) {
    if (!isPlainObject(v)) throw new CheckpointError(`checkpoint: ${k} must be a plain JSON object`);
  }
  if (!Number.isSafeInteger(c.state.step) || c.state.step < 0)
    throw new CheckpointError(`checkpoint: state.step must be a non-negative integer, got ${c.state.step}`);
  const enc = new TextEncoder();
  const json = (v: unknown) => () => enc.encode(JSON.stringify(v, null, 2) + '\n');
  const files = new Map<string, () => Uint8Array>([
    ['model.safetensors', () => c.model],
    ['config.json', json(c.config)],
    ['optimizer.json', json(c.optimizer)],
    ['state.json', json(c.state)],
  ]);
  for (const [name, bytes] of Object.entries(c.extra ?? {})) {
    if (!EXTRA_NAME.test(name) || RESERVED.includes(name))
      throw new CheckpointError(`checkpoint: invalid extra file name ${JSON.stringify(name)}`);
    if (!(bytes instanceof Uint8Array))
      throw new CheckpointError(`checkpoint: extra file ${name} must be a Uint8Array`);
    files.set(name, () => bytes);
  }
  return files;
}

/** Remove temporary folders left by killed writers of `dir`. */
function removeStaleTemps(dir: string): void {
  const parent = dirname(dir);
  const prefix = `${basename(dir)}.tmp-`;
  for (const name of readdirSync(parent))
    if (name.startsWith(prefix)) rmSync(join(parent, name), { recursive: true, force: true });
}

/**
 * Write a checkpoint folder atomically (see the file header for the protocol).
 * @param dir - the checkpoint folder; its parent is created if needed
 * @throws CheckpointError if `dir` exists but is not a checkpoint (nothing is touched), or on any
 *   write error (the previous checkpoint is left in place)
 */
export function writeCheckpoint(dir: string, contents: CheckpointContents): void {
  const files = encodeFiles(contents);
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory())
      throw new CheckpointError(`checkpoint: ${dir} exists and is not a folder; refusing to replace it`);
    if (!existsSync(join(dir, 'manifest.json')) && readdirSync(dir).length > 0) {
      throw new CheckpointError(
        `checkpoint: ${dir} exists and is not a checkpoint folder (no manifest.json); refusing to replace it`,
      );
    }
  }
  try {
    mkdirSync(dirname(dir), { recursive: true });
    removeStaleTemps(dir);
  } catch (e) {
    throw new CheckpointError(
      `checkpoint: cannot prepare the parent folder of ${dir}: ${(e as Error).message}`,
    );
  }
  const tmp = `${dir}.tmp-${process.pid}-${tmpCounter++}`;
  const old = `${dir}.old`;
  let movedOld = false;
  try {
    mkdirSync(tmp);
    const manifest: Manifest = { format: CHECKPOINT_FORMAT, files: {} };
    for (const [name, encode] of files) {
      const bytes = encode();
      writeFileSynced(join(tmp, name), bytes);
      manifest.files[name] = { bytes: bytes.length, sha256: sha256(bytes) };
    }
    writeFileSynced(
      join(tmp, 'manifest.json'),
      new TextEncoder().encode(JSON.stringify(manifest, null, 2) + '\n'),
    );
    fsyncDir(tmp);
    if (existsSync(dir)) {
      // a leftover <dir>.old is only the newest copy when <dir> is missing, which is not the case here
      rmSync(old, { recursive: true, force: true });
      renameSync(dir, old);
      movedOld = true;
    }
    renameSync(tmp, dir);
    fsyncDir(dirname(dir));
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (movedOld && !existsSync(dir)) renameSync(old, dir);
    throw e instanceof CheckpointError
      ? e
      : new CheckpointError(`checkpoint: writing ${dir} failed: ${(e as Error).message}`);
  }
  rmSync(old, { recursive: true, force: true });
}

/** True when `dir` (or its `.old` fallback) holds a checkpoint manifest. */
export function checkpointExists(dir: string): boolean {
  return (
    existsSync(join(dir, 'manifest.json')) ||
    (!existsSync(dir) && existsSync(join(`${dir}.old`, 'manifest.json')))
  );
}

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CheckpointError(`checkpoint: ${what} is not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Read and validate a checkpoint folder.
 * @throws CheckpointError naming the missing or corrupt file
 */
export function readCheckpoint(dir: string): LoadedCheckpoint {
  let path = dir;
  if (!existsSync(dir)) {
    if (existsSync(join(`${dir}.old`, 'manifest.json'))) path = `${dir}.old`;
    else throw new CheckpointError(`checkpoint: ${dir} does not exist`);
  }
  const mPath = join(path, 'manifest.json');
  if (!existsSync(mPath))
    throw new CheckpointError(
      `checkpoint: ${mPath} is missing (not a checkpoint folder, or an incomplete one)`,
    );
  const manifest = readJson(mPath, mPath) as Manifest;
  if (!isPlainObject(manifest) || manifest.format !== CHECKPOINT_FORMAT || !isPlainObject(manifest.files)) {
    throw new CheckpointError(`checkpoint: ${mPath} is not a ${CHECKPOINT_FORMAT} manifest`);
  }
  const bytes = new Map<string, Uint8Array>();
  for (const name of [...RESERVED.slice(0, 4), ...Object.keys(manifest.files)]) {
    if (bytes.has(name)) continue;
    const f = join(path, name);
    const meta = manifest.files[name];
    if (!meta) throw new CheckpointError(`checkpoint: ${mPath} does not list ${name}`);
    if (name.includes('/') || name.includes('\\') || name === '..')
      throw new CheckpointError(`checkpoint: bad file name ${name} in ${mPath}`);
    if (!existsSync(f)) throw new CheckpointError(`checkpoint: ${f} is missing`);
    const b = new Uint8Array(readFileSync(f));
    if (b.length !== meta.bytes)
      throw new CheckpointError(
        `checkpoint: ${f} has ${b.length} bytes, manifest says ${meta.bytes} (truncated or corrupt)`,
      );
    if (sha256(b) !== meta.sha256)
      throw new CheckpointError(`checkpoint: ${f} does not match its SHA-256 in the manifest (corrupt)`);
    bytes.set(name, b);
  }
  const parse = (name: string): Record<string, unknown> => {
    let v: unknown;
    try {
      v = JSON.parse(new TextDecoder().decode(bytes.get(name)));
    } catch (e) {
      throw new CheckpointError(
        `checkpoint: ${join(path, name)} is not valid JSON (${(e as Error).message})`,
      );
    }
    if (!isPlainObject(v))
      throw new CheckpointError(`checkpoint: ${join(path, name)} must hold a JSON object`);
    return v;
  };
  const state = parse('state.json');
  if (!Number.isSafeInteger(state.step) || (state.step as number) < 0) {
    throw new CheckpointError(
      `checkpoint: ${join(path, 'state.json')} has no valid "step" (got ${JSON.stringify(state.step)})`,
    );
  }
  const extra: Record<string, Uint8Array> = {};
  for (const [name, b] of bytes) if (!RESERVED.includes(name)) extra[name] = b;
  return {
    model: bytes.get('model.safetensors')!,
    config: parse('config.json'),
    optimizer: parse('optimizer.json'),
    state: state as CheckpointState,
    extra,
    path,
  };
}
