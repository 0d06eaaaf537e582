/**
 * Promise-based file I/O for safetensors, so a trainer can checkpoint without blocking the
 * event loop on disk writes: `writeFileAtomicAsync` (temp file in the same folder, fsync,
 * rename; a failure removes the temp file and leaves any existing file untouched) and
 * `readFileBytes`. Encoding and decoding stay synchronous (memory-bound).
 */
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `bytes` to `path` atomically, without blocking the event loop.
 * @param path - destination file (its folder must exist)
 * @param bytes - the complete file contents
 */
export async function writeFileAtomicAsync(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`,
  );
  try {
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new Error(`safetensors: cannot save '${path}': ${(err as Error).message}`, { cause: err });
  }
}

/** Reads a whole file; the error names the file. */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new Error(`io.load: cannot read '${path}': ${(err as Error).message}`, { cause: err });
  }
}
