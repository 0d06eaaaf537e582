/**
 * The run lock of a checkpoint folder: `<dir>.lock`, a sibling file created with O_EXCL (`wx`)
 * that holds `{ pid, host, started }` of the process writing checkpoints into `<dir>`. A second
 * writer is refused with an error naming the folder and the holder. A lock whose holder ran on
 * this host and is no longer running (a killed trainer) is stale: it is taken over, with a message.
 * Holders on another host cannot be checked and always count as live.
 * Creating the lock is also the start-of-run writability check of the folder's parent.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';

/** Who holds a checkpoint folder's lock. */
export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the holder took the lock. */
  started: string;
}

/** A held lock; `release()` removes the lock file (idempotent). */
export interface CheckpointLock {
  dir: string;
  path: string;
  holder: LockHolder;
  release(): void;
}

/** Lock-file path of a checkpoint folder. */
export const lockPathOf = (dir: string): string => `${dir}.lock`;

/** Whether a process of this host with this pid is running (EPERM: running, as another user). */
export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The holder recorded in `<dir>.lock`, undefined when there is no lock; `null` when unreadable. */
export function readLockHolder(dir: string): LockHolder | null | undefined {
  let text: string;
  try {
    text = readFileSync(lockPathOf(dir), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return null;
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    return Number.isSafeInteger(h.pid) && typeof h.host === 'string' ? h : null;
  } catch {
    return null;
  }
}

/** True when the holder is this process. */
export const isOwnHolder = (h: LockHolder): boolean => h.pid === process.pid && h.host === hostname();

/** True when the holder is certainly gone (same host, pid not running). */
export const isStaleHolder = (h: LockHolder): boolean => h.host === hostname() && !pidAlive(h.pid);

export const describeHolder = (h: LockHolder): string => `pid ${h.pid} on ${h.host}, started ${h.started}`;

let takeoverCounter = 0;

/**
 * Take the exclusive lock of checkpoint folder `dir` for this run (creates the parent folder).
 * @param opts.onWarning - receives the message when a stale lock is taken over (default: stderr)
 * @throws CheckpointError-compatible `Error` (from the caller's class) naming `dir` and the holder
 *   when another live process holds it, or when the parent folder is not writable
 */
export function acquireLock(
  dir: string,
  makeError: (msg: string) => Error,
  opts: { onWarning?: (msg: string) => void } = {},
): CheckpointLock {
  const warn = opts.onWarning ?? ((m: string) => void process.stderr.write(m + '\n'));
  const path = lockPathOf(dir);
  try {
    mkdirSync(dirname(dir), { recursive: true });
  } catch (e) {
    throw makeError(`checkpoint: cannot create the parent folder of ${dir}: ${(e as Error).message}`);
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const holder: LockHolder = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST')
        throw makeError(
          `checkpoint: cannot write in ${dirname(dir)} (creating the lock ${path} failed: ${(e as Error).message}); the checkpoint folder's parent must be writable`,
        );
      const h = readLockHolder(dir);
      if (h === undefined) continue; // released meanwhile: try again
      if (h === null)
        throw makeError(
          `checkpoint: ${dir} is locked (${path} is unreadable or not a lock file); if no trainer uses this folder, delete ${path}`,
        );
      if (!isStaleHolder(h))
        throw makeError(
          `checkpoint: ${dir} is in use by another process (${describeHolder(h)}; lock ${path}); wait for it to finish or use another checkpoint folder`,
        );
      // stale: move it aside under a name only we use, check it is still the stale one, drop it
      const aside = `${path}.stale-${process.pid}-${takeoverCounter++}`;
      try {
        renameSync(path, aside);
      } catch {
        continue; // someone else took it over first
      }
      const moved = (() => {
        try {
          return JSON.parse(readFileSync(aside, 'utf8')) as LockHolder;
        } catch {
          return null;
        }
      })();
      if (moved && moved.pid === h.pid && moved.host === h.host && moved.started === h.started) {
        unlinkSync(aside);
        warn(`checkpoint: taking over the stale lock of ${dir} (${describeHolder(h)}: not running)`);
      } else {
        // a fresh lock of a racing process: put it back (its owner still holds it)
        try {
          renameSync(aside, path);
        } catch {
          /* nothing more we can do */
        }
      }
      continue;
    }
    try {
      const bytes = Buffer.from(JSON.stringify(holder) + '\n');
      writeSync(fd, bytes, 0, bytes.length);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      process.removeListener('exit', release);
      const now = readLockHolder(dir);
      if (now && now.pid === holder.pid && now.host === holder.host && now.started === holder.started) {
        try {
          unlinkSync(path);
        } catch {
          /* already gone */
        }
      }
    };
    process.on('exit', release); // process.exit() during a run still frees the folder
    return { dir, path, holder, release };
  }
  throw makeError(`checkpoint: could not take the lock ${path} (it kept changing); try again`);
}
