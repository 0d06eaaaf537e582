/**
 * @nl/tensor's `io`: safetensors save/load for Tensors (byte-compatible with the Python
 * `safetensors` library and Hugging Face files).
 *
 * Dtype mapping: float32 <-> F32, float64 <-> F64, int32 <-> I32. Loading also accepts
 * F16/BF16 (widened to float32) and I64/U32/U64/I16/U16/I8/U8/BOOL (to int32, with a range
 * check naming the tensor). The byte-level format on plain records is in ./safetensors.ts.
 */
import { fromTypedArray, type Tensor } from '../nn/core.js';
import { halfToFloat32, type SafetensorsDtype } from './dtypes.js';
import { writeFileAtomic } from './file.js';
import { readFileBytes, writeFileAtomicAsync } from './async.js';
import { readFileSync } from 'node:fs';
import { decodeSafetensors, encodeSafetensors, type SafetensorsRecord } from './safetensors.js';

export { encodeSafetensors, decodeSafetensors, parseSafetensorsHeader } from './safetensors.js';
export type { SafetensorsRecord, SafetensorsEntry, SafetensorsHeader } from './safetensors.js';
export { saveFile, loadFile, writeFileAtomic } from './file.js';
export { writeFileAtomicAsync } from './async.js';
export { halfToFloat32, type SafetensorsDtype, type SafetensorsData } from './dtypes.js';

const TAG = { float32: 'F32', float64: 'F64', int32: 'I32' } as const;

function toRecord(name: string, t: Tensor): SafetensorsRecord {
  if (t === null || typeof t !== 'object' || typeof (t as Tensor).dataSync !== 'function') {
    throw new TypeError(`io.save: '${name}' is not a Tensor`);
  }
  t.assertLive(`io.save '${name}'`);
  const dtype = TAG[t.dtype as keyof typeof TAG];
  if (dtype === undefined)
    throw new TypeError(`io.save: '${name}' has dtype ${t.dtype}, which safetensors I/O does not map`);
  return { dtype, shape: [...t.shape], data: t.dataSync() } as SafetensorsRecord;
}

/** Encodes tensors to safetensors bytes. */
function encode(
  tensors: Readonly<Record<string, Tensor>>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  if (tensors === null || typeof tensors !== 'object')
    throw new TypeError('io.save: tensors must be an object of name -> Tensor');
  const records: Record<string, SafetensorsRecord> = {};
  for (const [name, t] of Object.entries(tensors)) records[name] = toRecord(name, t);
  return encodeSafetensors(records, metadata);
}

/**
 * Saves tensors in safetensors format: to a file (written to a temp file and renamed, so a
 * failed save never destroys an existing file) or, with no path, to bytes.
 * @param path - destination file, or null/undefined to get the bytes back
 * @param tensors - name -> Tensor (float32, float64 or int32; any layout)
 * @param metadata - optional string map stored as `__metadata__`
 * @example
 * io.save('model.safetensors', model.stateDict(), { step: '100' });
 * const bytes = io.save(null, { w });
 */
export function save(
  path: string,
  tensors: Readonly<Record<string, Tensor>>,
  metadata?: Readonly<Record<string, string>>,
): void;
export function save(
  path: null | undefined,
  tensors: Readonly<Record<string, Tensor>>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array;
export function save(
  path: string | null | undefined,
  tensors: Readonly<Record<string, Tensor>>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array | void {
  const bytes = encode(tensors, metadata);
  if (path === null || path === undefined) return bytes;
  if (typeof path !== 'string') throw new TypeError(`io.save: path must be a string, got ${typeof path}`);
  writeFileAtomic(path, bytes);
}

function toInt32(name: string, r: SafetensorsRecord): Int32Array {
  const out = new Int32Array(r.data.length);
  for (let i = 0; i < r.data.length; i++) {
    const v = Number(r.data[i]);
    if (v < -2147483648 || v > 2147483647) {
      throw new RangeError(
        `io.load: '${name}' (${r.dtype}) holds ${r.data[i]} at element ${i}, outside int32`,
      );
    }
    out[i] = v;
  }
  return out;
}

function tensorData(name: string, r: SafetensorsRecord): Float32Array | Float64Array | Int32Array {
  const tag: SafetensorsDtype = r.dtype;
  if (tag === 'F32' || tag === 'F64' || tag === 'I32')
    return r.data as Float32Array | Float64Array | Int32Array;
  if (tag === 'F16' || tag === 'BF16') return halfToFloat32(r.data as Uint16Array, tag);
  return toInt32(name, r);
}

/** Options of the load functions. */
export interface LoadOptions {
  /**
   * Refuse float tensors holding NaN or +-Infinity (the error names the tensor, the element
   * index and the value) instead of loading them. Off by default: a file may hold them on
   * purpose (masks of -Infinity). Turn it on for model weights.
   */
  finite?: boolean;
}

/** Throws when a float array holds NaN/Infinity (checked before any Tensor is allocated). */
function checkFinite(name: string, data: Float32Array | Float64Array | Int32Array, where: string): void {
  if (data instanceof Int32Array) return;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new RangeError(
        `${where}: tensor '${name}' holds ${data[i]} at element ${i} (loaded with { finite: true })`,
      );
    }
  }
}

/** Decodes file bytes into tensors; `path` (when the bytes came from a file) prefixes errors. */
function fromBytes(
  bytes: Uint8Array,
  path: string | null,
  options: LoadOptions = {},
): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  let decoded: ReturnType<typeof decodeSafetensors>;
  try {
    decoded = decodeSafetensors(bytes);
  } catch (err) {
    if (path === null) throw err;
    const msg = (err as Error).message.replace(/^safetensors: /, '');
    throw new Error(`safetensors: '${path}': ${msg}`, { cause: err });
  }
  // Convert everything first so a bad tensor throws before any Tensor is allocated.
  const arrays = Object.entries(decoded.tensors).map(
    ([name, r]) => [name, tensorData(name, r), r.shape] as const,
  );
  if (options.finite)
    for (const [name, data] of arrays)
      checkFinite(name, data, path === null ? 'io.load' : `io.load '${path}'`);
  const tensors: Record<string, Tensor> = {};
  for (const [name, data, shape] of arrays) tensors[name] = fromTypedArray(data, shape);
  return { tensors, metadata: decoded.metadata };
}

/**
 * Loads every tensor of a safetensors file (or bytes), with the file's metadata.
 * @param source - a file path or the file's bytes
 * @returns `tensors` by name and `metadata` (`{}` when the file has none)
 */
export function loadWithMetadata(
  source: string | Uint8Array,
  options: LoadOptions = {},
): {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
} {
  if (source instanceof Uint8Array) return fromBytes(source, null, options);
  if (typeof source !== 'string')
    throw new TypeError(`io.load: expected a path or a Uint8Array, got ${typeof source}`);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(source);
  } catch (err) {
    throw new Error(`io.load: cannot read '${source}': ${(err as Error).message}`, { cause: err });
  }
  return fromBytes(bytes, source, options);
}

/**
 * Loads every tensor of a safetensors file (or bytes) by name.
 * @param source - a file path or the file's bytes
 * @param options - `{ finite: true }` refuses NaN/Infinity in float tensors
 * @example
 * model.loadStateDict(io.load('model.safetensors', { finite: true }));
 */
export function load(source: string | Uint8Array, options: LoadOptions = {}): Record<string, Tensor> {
  return loadWithMetadata(source, options).tensors;
}

/**
 * `save` to a file without blocking the event loop on the disk write (same atomic
 * temp-file-and-rename; the tensors are read synchronously, before the promise).
 */
export async function saveAsync(
  path: string,
  tensors: Readonly<Record<string, Tensor>>,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  if (typeof path !== 'string')
    throw new TypeError(`io.saveAsync: path must be a string, got ${typeof path}`);
  await writeFileAtomicAsync(path, encode(tensors, metadata));
}

/** `loadWithMetadata` from a file, reading it without blocking the event loop. */
export async function loadWithMetadataAsync(
  path: string,
  options: LoadOptions = {},
): Promise<{ tensors: Record<string, Tensor>; metadata: Record<string, string> }> {
  if (typeof path !== 'string')
    throw new TypeError(`io.loadAsync: path must be a string, got ${typeof path}`);
  return fromBytes(await readFileBytes(path), path, options);
}

/** `load` from a file, reading it without blocking the event loop. */
export async function loadAsync(path: string, options: LoadOptions = {}): Promise<Record<string, Tensor>> {
  return (await loadWithMetadataAsync(path, options)).tensors;
}
