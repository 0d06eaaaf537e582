/**
 * Safetensors files on disk. Saving encodes in memory first, writes a temporary file in the
 * same folder, fsyncs it and renames it over the target, so a failed save (bad input, full
 * disk, crash mid-write) never destroys an existing file. Loading reads the whole file and
 * validates it; every error names the file.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { decodeSafetensors, encodeSafetensors, type SafetensorsRecord } from './safetensors.js';

/**
 * Writes `bytes` to `path` atomically (temp file in the same folder + rename).
 * @param path - destination file
 * @param bytes - the complete file contents
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const tmp = join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`,
  );
  let fd = -1;
  try {
    fd = openSync(tmp, 'wx');
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (err) {
    if (fd >= 0) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new Error(`safetensors: cannot save '${path}': ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Encodes records and writes them to `path` atomically.
 * @param path - destination `.safetensors` file (its folder must exist)
 * @param records - name -> {dtype, shape, data}
 * @param metadata - optional string map stored as `__metadata__`
 */
export function saveFile(
  path: string,
  records: Readonly<Record<string, SafetensorsRecord>>,
  metadata?: Readonly<Record<string, string>>,
): void {
  const bytes = encodeSafetensors(records, metadata);
  writeFileAtomic(path, bytes);
}

/**
 * Reads and validates a safetensors file.
 * @param path - the file to read
 * @returns records by name and the metadata map (`{}` when absent)
 */
export function loadFile(path: string): {
  tensors: Record<string, SafetensorsRecord>;
  metadata: Record<string, string>;
} {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new Error(`safetensors: cannot read '${path}': ${(err as Error).message}`, { cause: err });
  }
  try {
    return decodeSafetensors(bytes);
  } catch (err) {
    const msg = (err as Error).message.replace(/^safetensors: /, '');
    throw new Error(`safetensors: '${path}': ${msg}`, { cause: err });
  }
}
