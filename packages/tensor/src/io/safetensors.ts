/**
 * The safetensors byte format on plain records (`{dtype, shape, data}`), no Tensor needed.
 *
 * Layout (huggingface/safetensors README):
 *   [0, 8)        u64 little-endian N: the header length in bytes
 *   [8, 8+N)      UTF-8 JSON: {"__metadata__"?: {str: str}, name: {dtype, shape, data_offsets: [b, e]}}
 *                 padded with spaces so that 8+N is a multiple of 8 (as the Python library does)
 *   [8+N, end)    the data section: little-endian, row-major, offsets relative to its start,
 *                 fully covered by the tensors with no holes and no overlaps
 * 0-rank tensors (shape []) hold one element; empty tensors (a 0 in the shape) hold none.
 *
 * The encoder writes tensors in the order the Python library does (dtype alignment descending,
 * then name) so headers come out byte-identical for the same inputs and metadata key order.
 * The decoder validates strictly and names the problem in every error.
 */
import { dtypeInfo, dtypeRank, type SafetensorsData, type SafetensorsDtype } from './dtypes.js';
import { topLevelKeys } from './json-keys.js';

/** One tensor as plain data: `data.length` equals the product of `shape`. */
export interface SafetensorsRecord {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly data: SafetensorsData;
}

/** A header entry: where one tensor's bytes sit, relative to the data section. */
export interface SafetensorsEntry {
  readonly dtype: SafetensorsDtype;
  readonly shape: number[];
  readonly dataOffsets: [number, number];
}

/** The parsed header plus where the data section starts in the file. */
export interface SafetensorsHeader {
  readonly entries: Record<string, SafetensorsEntry>;
  readonly metadata: Record<string, string>;
  /** Byte offset of the data section in the file (8 + header length). */
  readonly dataStart: number;
}

/** The Python library refuses headers above 100 MB; so do we. */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function fail(msg: string): never {
  throw new Error(`safetensors: ${msg}`);
}

function checkHost(): void {
  if (!LITTLE_ENDIAN) fail('big-endian hosts are not supported');
}

function checkName(name: string): void {
  if (name === METADATA_KEY) fail(`'${METADATA_KEY}' is reserved and cannot name a tensor`);
  if (name === '__proto__') fail(`'__proto__' cannot name a tensor`);
}

function checkShape(shape: unknown, where: string): number[] {
  if (!Array.isArray(shape)) fail(`${where}: shape must be an array, got ${JSON.stringify(shape)}`);
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || (d as number) < 0) {
      fail(`${where}: shape ${JSON.stringify(shape)} must hold non-negative integers`);
    }
  }
  return shape as number[];
}

function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Encodes records (and optional string metadata) into a safetensors file image.
 * @param records - name -> {dtype, shape, data}; `data.length` must equal the product of `shape`
 * @param metadata - optional `__metadata__` map; every value must be a string
 * @returns the file bytes
 */
export function encodeSafetensors(
  records: Readonly<Record<string, SafetensorsRecord>>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  checkHost();
  const names = Object.keys(records);
  for (const name of names) {
    checkName(name);
    const r = records[name];
    const where = `tensor '${name}'`;
    const info = dtypeInfo(r?.dtype, where);
    const shape = checkShape(r.shape, where);
    if (!(r.data instanceof info.ctor)) {
      const got = (r.data as object | undefined)?.constructor?.name ?? typeof r.data;
      fail(`${where}: dtype ${r.dtype} needs a ${info.ctor.name}, got ${got}`);
    }
    if (r.data.length !== numelOf(shape)) {
      fail(
        `${where}: shape [${shape.join(', ')}] has ${numelOf(shape)} elements but data has ${r.data.length}`,
      );
    }
  }
  names.sort((a, b) => {
    const byDtype = dtypeRank(records[b].dtype) - dtypeRank(records[a].dtype);
    return byDtype !== 0 ? byDtype : a < b ? -1 : a > b ? 1 : 0;
  });

  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    const meta: Record<string, string> = {};
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') fail(`metadata '${k}' must be a string, got ${typeof v}`);
      meta[k] = v;
    }
    header[METADATA_KEY] = meta;
  }
  let offset = 0;
  for (const name of names) {
    const r = records[name];
    const end = offset + r.data.byteLength;
    header[name] = { dtype: r.dtype, shape: [...r.shape], data_offsets: [offset, end] };
    offset = end;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let pos = 8 + headerLen;
  for (const name of names) {
    const d = records[name].data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos);
    pos += d.byteLength;
  }
  return out;
}

function parseEntry(name: string, raw: unknown): SafetensorsEntry {
  const where = `tensor '${name}'`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    fail(`${where}: header entry must be an object, got ${JSON.stringify(raw)}`);
  }
  const e = raw as Record<string, unknown>;
  const info = dtypeInfo(e.dtype, where);
  const shape = checkShape(e.shape, where);
  const offs = e.data_offsets;
  if (
    !Array.isArray(offs) ||
    offs.length !== 2 ||
    !offs.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)
  ) {
    fail(`${where}: data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(offs)}`);
  }
  const [begin, end] = offs as [number, number];
  if (end < begin) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  const need = numelOf(shape) * info.size;
  if (end - begin !== need) {
    fail(
      `${where}: shape [${shape.join(', ')}] with dtype ${e.dtype as string} needs ${need} bytes ` +
        `but data_offsets [${begin}, ${end}] span ${end - begin}`,
    );
  }
  return { dtype: e.dtype as SafetensorsDtype, shape, dataOffsets: [begin, end] };
}

function parseMetadata(raw: unknown): Record<string, string> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    fail(`'${METADATA_KEY}' must be an object of strings, got ${JSON.stringify(raw)}`);
  }
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v !== 'string') fail(`metadata '${k}' must be a string, got ${JSON.stringify(v)}`);
    meta[k] = v;
  }
  return meta;
}

/**
 * Parses and validates the header of a safetensors file image (the data is not copied).
 * Checks: length prefix present, header inside the file, UTF-8, JSON object, no duplicate keys,
 * known dtypes, shape/offset sizes agree, tensors tile the data section with no holes or overlaps.
 * @param bytes - the whole file
 */
export function parseSafetensorsHeader(bytes: Uint8Array): SafetensorsHeader {
  if (bytes.length < 8) {
    fail(`file is truncated: ${bytes.length} bytes, need at least 8 for the header length`);
  }
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n64} is over the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(n64);
  if (8 + n > bytes.length) {
    fail(`file is truncated: header length ${n} runs past the end of the file (${bytes.length} bytes)`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail('header is not valid UTF-8');
  }
  if (!text.startsWith('{'))
    fail(`header must be a JSON object starting with '{', got ${JSON.stringify(text.slice(0, 20))}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    fail(`header is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    fail('header must be a JSON object');
  const seen = new Set<string>();
  for (const key of topLevelKeys(text)) {
    if (seen.has(key)) fail(`header has duplicate key '${key}'`);
    seen.add(key);
  }

  const obj = parsed as Record<string, unknown>;
  const entries: Record<string, SafetensorsEntry> = {};
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(obj)) {
    if (name === METADATA_KEY) metadata = parseMetadata(raw);
    else {
      checkName(name);
      entries[name] = parseEntry(name, raw);
    }
  }

  const dataLen = bytes.length - 8 - n;
  const order = Object.keys(entries).sort((a, b) => {
    const [ab, ae] = entries[a].dataOffsets;
    const [bb, be] = entries[b].dataOffsets;
    return ab - bb || ae - be;
  });
  let cursor = 0;
  let prev = '';
  for (const name of order) {
    const [begin, end] = entries[name].dataOffsets;
    if (begin > cursor) {
      fail(
        `hole in the data section: bytes [${cursor}, ${begin}) before tensor '${name}' belong to no tensor`,
      );
    }
    if (begin < cursor) {
      fail(
        `tensor '${name}' (data_offsets [${begin}, ${end}]) overlaps tensor '${prev}' (ends at ${cursor})`,
      );
    }
    if (end > dataLen) {
      fail(
        `file is truncated: tensor '${name}' ends at data byte ${end} but the data section has ${dataLen} bytes`,
      );
    }
    cursor = end;
    prev = name;
  }
  if (cursor !== dataLen) {
    fail(
      `data section has ${dataLen} bytes but the tensors cover only ${cursor}: ${dataLen - cursor} trailing bytes`,
    );
  }
  return { entries, metadata, dataStart: 8 + n };
}

/**
 * Decodes a safetensors file image into records (each a fresh, aligned copy) and metadata.
 * @param bytes - the whole file
 * @returns `tensors` by name and the `__metadata__` map (`{}` when absent)
 */
export function decodeSafetensors(bytes: Uint8Array): {
  tensors: Record<string, SafetensorsRecord>;
  metadata: Record<string, string>;
} {
  checkHost();
  const { entries, metadata, dataStart } = parseSafetensorsHeader(bytes);
  const tensors: Record<string, SafetensorsRecord> = {};
  for (const [name, e] of Object.entries(entries)) {
    const [begin, end] = e.dataOffsets;
    // A fresh buffer (not `bytes.slice`, which is a view when `bytes` is a Node Buffer).
    const copy = new Uint8Array(end - begin);
    copy.set(bytes.subarray(dataStart + begin, dataStart + end));
    const info = dtypeInfo(e.dtype, `tensor '${name}'`);
    tensors[name] = { dtype: e.dtype, shape: e.shape, data: new info.ctor(copy.buffer) };
  }
  return { tensors, metadata };
}
