/**
 * Exact JSON encoding of optimizer state: typed arrays become {dtype, data: base64 of the
 * little-endian bytes}, numbers stay numbers (JS prints doubles round-trip exactly).
 */
import type { FloatArray } from './param.js';

/** A typed array encoded for JSON. */
export interface EncodedArray {
  dtype: 'float32' | 'float64';
  /** base64 of the raw little-endian element bytes */
  data: string;
}

/** One state entry: a typed array (encoded) or a number. */
export type StateValue = FloatArray | number;
export type EncodedValue = EncodedArray | number;

/** Encodes a state value exactly. */
export function encodeValue(v: StateValue): EncodedValue {
  if (typeof v === 'number') return v;
  const bytes = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return { dtype: v instanceof Float32Array ? 'float32' : 'float64', data: bytes.toString('base64') };
}

/** Decodes a value written by `encodeValue` (a fresh array). */
export function decodeValue(v: EncodedValue, where: string): StateValue {
  if (typeof v === 'number') return v;
  if (!v || typeof v !== 'object' || typeof v.data !== 'string')
    throw new TypeError(`${where}: expected a number or {dtype, data}`);
  const buf = Buffer.from(v.data, 'base64');
  const copy = new Uint8Array(buf.length);
  copy.set(buf);
  if (v.dtype === 'float32') {
    if (copy.length % 4)
      throw new RangeError(`${where}: float32 data length ${copy.length} not a multiple of 4`);
    return new Float32Array(copy.buffer);
  }
  if (v.dtype === 'float64') {
    if (copy.length % 8)
      throw new RangeError(`${where}: float64 data length ${copy.length} not a multiple of 8`);
    return new Float64Array(copy.buffer);
  }
  throw new TypeError(`${where}: unknown dtype ${String((v as EncodedArray).dtype)}`);
}
