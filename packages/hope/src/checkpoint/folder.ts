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
 *
 * Next to other processes (issue 15):
 * - a run takes `<dir>.lock` ({@link acquireCheckpointLock}); {@link writeCheckpoint} refuses a
 *   folder whose lock another live process holds;
 * - a write removes only its own `<dir>.tmp-<pid>-<n>` folders and those of dead processes, never
 *   a live writer's;
 * - each manifest carries a random `generation`; a reader that hits an error while the folder was
 *   replaced under it (the manifest's generation changed during the read) reads again, so a
 *   concurrent writer never causes a false "corrupt"/"truncated"/"missing" error, and every file
 *   returned matches the SHA-256 of the one manifest read;
 * - once the new folder is renamed into place the checkpoint is committed: failing to remove the
 *   previous copy (`<dir>.old`, e.g. EACCES) is a warning, and a leftover `.old` that cannot be
 *   removed is moved aside (`<dir>.trash-<pid>-<n>`) so it never blocks a later checkpoint.
 */
import { createHash, randomBytes } from 'node:crypto';
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
import {
  acquireLock,
  describeHolder,
  isOwnHolder,
  isStaleHolder,
  lockPathOf,
  pidAlive,
  readLockHolder,
  type CheckpointLock,
} from './lock.js';

export type { CheckpointLock, LockHolder } from './lock.js';

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
  /** Random id of this write (absent in older checkpoints). */
  generation?: string;
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

/** Options of {@link writeCheckpoint}. */
export interface WriteCheckpointOptions {
  /** Receives non-fatal problems (e.g. the previous copy could not be removed); default: stderr. */
  onWarning?: (message: string) => void;
}

/** What a successful {@link writeCheckpoint} reports. */
export interface WriteCheckpointResult {
  path: string;
  /** Non-fatal problems (also passed to `onWarning`). */
  warnings: string[];
}

/**
 * Take the exclusive lock of checkpoint folder `dir` for a run (`<dir>.lock` holding pid, host and
 * start time, created with O_EXCL; the parent folder is created). A stale lock (holder on this
 * host no longer running) is taken over, with a message to `onWarning`.
 * @throws CheckpointError naming `dir` and the holder when another live process holds it, or when
 *   the parent folder is not writable (use it as the start-of-run writability check)
 */
export function acquireCheckpointLock(
  dir: string,
  opts: { onWarning?: (message: string) => void } = {},
): CheckpointLock {
  return acquireLock(dir, (m) => new CheckpointError(m), opts);
}

/** Remove this process's and dead processes' temporary folders of `dir` (never a live writer's). */
function removeStaleTemps(dir: string, warn: (m: string) => void): void {
  const parent = dirname(dir);
  const prefix = `${basename(dir)}.tmp-`;
  for (const name of readdirSync(parent)) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)-\d+$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && pidAlive(pid)) continue;
    try {
      rmSync(join(parent, name), { recursive: true, force: true });
    } catch (e) {
      warn(
        `checkpoint: could not remove the stale temporary folder ${join(parent, name)}: ${(e as Error).message}`,
      );
    }
  }
}

/** Remove `<dir>.old`; when that fails, move it aside so it cannot block the next rename. */
function clearOld(dir: string, warn: (m: string) => void): void {
  const old = `${dir}.old`;
  if (!existsSync(old)) return;
  try {
    rmSync(old, { recursive: true, force: true });
    return;
  } catch (e) {
    const aside = `${dir}.trash-${process.pid}-${tmpCounter++}`;
    renameSync(old, aside); // throws (and the write fails cleanly) only if the parent is unwritable
    warn(
      `checkpoint: could not remove ${old} (${(e as Error).message}); moved it to ${aside}, delete it by hand`,
    );
    try {
      rmSync(aside, { recursive: true, force: true });
    } catch {
      /* reported above */
    }
  }
}

/**
 * Write a checkpoint folder atomically (see the file header for the protocol).
 * @param dir - the checkpoint folder; its parent is created if needed
 * @throws CheckpointError if `dir` exists but is not a checkpoint (nothing is touched), or on any
 *   write error (the previous checkpoint is left in place)
 */
export function writeCheckpoint(
  dir: string,
  contents: CheckpointContents,
  opts: WriteCheckpointOptions = {},
): WriteCheckpointResult {
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    (opts.onWarning ?? ((x: string) => void process.stderr.write(x + '\n')))(m);
  };
  const files = encodeFiles(contents);
  const holder = readLockHolder(dir);
  if (holder && !isOwnHolder(holder) && !isStaleHolder(holder))
    throw new CheckpointError(
      `checkpoint: ${dir} is locked by ${describeHolder(holder)} (${lockPathOf(dir)}); not writing`,
    );
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
    removeStaleTemps(dir, warn);
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
    const manifest: Manifest = {
      format: CHECKPOINT_FORMAT,
      generation: randomBytes(12).toString('hex'),
      files: {},
    };
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
      clearOld(dir, warn);
      renameSync(dir, old);
      movedOld = true;
    }
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (movedOld && !existsSync(dir)) renameSync(old, dir);
    throw e instanceof CheckpointError
      ? e
      : new CheckpointError(`checkpoint: writing ${dir} failed: ${(e as Error).message}`);
  }
  // committed: from here on nothing may fail the write
  try {
    fsyncDir(dirname(dir));
  } catch {
    /* the renames are done; durability of the parent entry is best effort */
  }
  try {
    rmSync(old, { recursive: true, force: true });
  } catch (e) {
    warn(
      `checkpoint: ${dir} was written, but the previous copy ${old} could not be removed (${(e as Error).message}); it is moved aside at the next checkpoint`,
    );
  }
  return { path: dir, warnings };
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

/** The manifest text of `dir` (or, when `dir` is missing, of `<dir>.old`); '' when neither reads. */
function currentManifest(dir: string): string {
  for (const d of [dir, `${dir}.old`, dir]) {
    try {
      return readFileSync(join(d, 'manifest.json'), 'utf8');
    } catch {
      /* next */
    }
  }
  return '';
}

/**
 * Read and validate a checkpoint folder. When a writer replaces the folder during the read (the
 * manifest changed), the read is repeated, so the result is one whole generation and errors are
 * real.
 * @throws CheckpointError naming the missing or corrupt file
 */
export function readCheckpoint(dir: string): LoadedCheckpoint {
  let err: unknown;
  let stableFailures = 0;
  for (let attempt = 0; attempt < 20; attempt++) {
    const before = currentManifest(dir);
    try {
      return readOnce(dir);
    } catch (e) {
      if (!(e instanceof CheckpointError)) throw e;
      err = e;
      // While a writer swaps folders, <dir> is briefly missing and <dir>.old still holds the
      // manifest we read, so an unchanged manifest alone does not prove the error real: wait a
      // moment and require the same failure twice with nothing changed in between.
      sleepSync(10);
      const midSwap = !existsSync(dir) && existsSync(`${dir}.old`);
      if (currentManifest(dir) !== before || midSwap) stableFailures = 0;
      else if (++stableFailures >= 2) throw e;
    }
  }
  throw err;
}

/** Blocks the thread for `ms` milliseconds (readCheckpoint is synchronous). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function readOnce(dir: string): LoadedCheckpoint {
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
    let b: Uint8Array;
    try {
      b = new Uint8Array(readFileSync(f));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        throw new CheckpointError(`checkpoint: ${f} is missing`);
      throw new CheckpointError(`checkpoint: cannot read ${f}: ${(e as Error).message}`);
    }
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
