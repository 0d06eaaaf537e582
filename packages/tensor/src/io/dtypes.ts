/**
 * The safetensors dtype table: tag -> element size, typed-array type, and the order the Python
 * `safetensors` library writes tensors in (largest alignment first). Also the bit-level
 * float16/bfloat16 <-> float32 conversions used when loading half-precision files.
 *
 * Tags supported for reading and writing: F64 F32 F16 BF16 I64 I32 I16 I8 U64 U32 U16 U8 BOOL.
 * F16/BF16 records carry their raw bits in a Uint16Array (convert with `halfToFloat32`).
 * Other tags from the spec (F8_E4M3, F8_E5M2, ...) are recognised and refused with an
 * "unsupported dtype" error; anything else is an "unknown dtype".
 */

/** A safetensors dtype tag this library reads and writes. */
export type SafetensorsDtype =
  | 'F64'
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'I64'
  | 'I32'
  | 'I16'
  | 'I8'
  | 'U64'
  | 'U32'
  | 'U16'
  | 'U8'
  | 'BOOL';

/** The typed array that holds a record's elements (row-major). */
export type SafetensorsData =
  | Float64Array
  | Float32Array
  | Uint16Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | BigUint64Array
  | Uint32Array
  | Uint8Array;

interface DtypeInfo {
  /** Bytes per element. */
  readonly size: number;
  /** Typed-array constructor used for records of this dtype. */
  readonly ctor: { new (buffer: ArrayBuffer): SafetensorsData; readonly name: string };
  /** Rank in the Python library's sort (higher is written first). */
  readonly rank: number;
}

const TABLE: Readonly<Record<SafetensorsDtype, DtypeInfo>> = {
  U64: { size: 8, ctor: BigUint64Array, rank: 13 },
  I64: { size: 8, ctor: BigInt64Array, rank: 12 },
  F64: { size: 8, ctor: Float64Array, rank: 11 },
  F32: { size: 4, ctor: Float32Array, rank: 10 },
  U32: { size: 4, ctor: Uint32Array, rank: 9 },
  I32: { size: 4, ctor: Int32Array, rank: 8 },
  BF16: { size: 2, ctor: Uint16Array, rank: 7 },
  F16: { size: 2, ctor: Uint16Array, rank: 6 },
  U16: { size: 2, ctor: Uint16Array, rank: 5 },
  I16: { size: 2, ctor: Int16Array, rank: 4 },
  I8: { size: 1, ctor: Int8Array, rank: 2 },
  U8: { size: 1, ctor: Uint8Array, rank: 1 },
  BOOL: { size: 1, ctor: Uint8Array, rank: 0 },
};

/** Tags the safetensors spec defines that this library refuses with a clear error. */
const KNOWN_UNSUPPORTED = new Set(['F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F6_E2M3', 'F6_E3M2', 'F4', 'C64']);

/** True when `tag` is a dtype this library reads and writes. */
export function isSafetensorsDtype(tag: unknown): tag is SafetensorsDtype {
  return typeof tag === 'string' && Object.prototype.hasOwnProperty.call(TABLE, tag);
}

/**
 * Looks up a dtype tag, throwing "unsupported dtype" for spec tags we don't handle and
 * "unknown dtype" for anything else. `where` names the tensor for the message.
 */
export function dtypeInfo(tag: unknown, where: string): DtypeInfo {
  if (isSafetensorsDtype(tag)) return TABLE[tag];
  if (typeof tag === 'string' && KNOWN_UNSUPPORTED.has(tag)) {
    throw new Error(`safetensors: ${where}: unsupported dtype '${tag}'`);
  }
  throw new Error(`safetensors: ${where}: unknown dtype ${JSON.stringify(tag)}`);
}

/** Sort rank of a dtype in the Python writer's order (larger alignment first). */
export function dtypeRank(tag: SafetensorsDtype): number {
  return TABLE[tag].rank;
}

/** Converts IEEE float16 bits to a float32 value. */
export function halfBitsToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * Widens F16 or BF16 raw bits to a Float32Array.
 * @param bits - raw 16-bit patterns, one per element
 * @param dtype - which half format the bits are in
 */
export function halfToFloat32(bits: Uint16Array, dtype: 'F16' | 'BF16'): Float32Array {
  const out = new Float32Array(bits.length);
  if (dtype === 'BF16') {
    new Uint32Array(out.buffer).set(Uint32Array.from(bits, (b) => b << 16));
  } else {
    for (let i = 0; i < bits.length; i++) out[i] = halfBitsToFloat(bits[i]);
  }
  return out;
}
