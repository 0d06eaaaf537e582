/**
 * A minimal protocol-buffers writer: just what serialising an ONNX ModelProto needs (varints,
 * int64 as two's complement, fixed32 floats, length-delimited strings, bytes and sub-messages).
 * Messages are built bottom-up: a sub-message is finished to bytes, then written as a field.
 * Repeated scalars are written unpacked (valid for proto2 and proto3 readers alike).
 */

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;
const utf8 = new TextEncoder();

/** Builds one message's bytes. */
export class PbWriter {
  private readonly chunks: Uint8Array[] = [];
  private scratch: number[] = [];

  private flushScratch(): void {
    if (this.scratch.length === 0) return;
    this.chunks.push(Uint8Array.from(this.scratch));
    this.scratch = [];
  }

  private varint(v: bigint): void {
    let x = BigInt.asUintN(64, v); // negative int64 → 10-byte two's complement
    while (x >= 0x80n) {
      this.scratch.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.scratch.push(Number(x));
  }

  private tag(field: number, wire: number): void {
    this.varint(BigInt((field << 3) | wire));
  }

  /** An integer field (int32 / int64 / enum); `v` must be a safe integer. */
  int(field: number, v: number): this {
    if (!Number.isSafeInteger(v))
      throw new RangeError(`protobuf: field ${field}: ${v} is not a safe integer`);
    this.tag(field, WIRE_VARINT);
    this.varint(BigInt(v));
    return this;
  }

  /** Repeated integers, one field entry each. */
  intList(field: number, vs: readonly number[]): this {
    for (const v of vs) this.int(field, v);
    return this;
  }

  /** A float field (fixed32, little-endian). */
  float(field: number, v: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.scratch.push(...b);
    return this;
  }

  /** A length-delimited field holding `bytes`. */
  bytes(field: number, bytes: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.varint(BigInt(bytes.length));
    this.flushScratch();
    this.chunks.push(bytes);
    return this;
  }

  /** A UTF-8 string field. */
  string(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }

  /** Repeated strings. */
  strings(field: number, ss: readonly string[]): this {
    for (const s of ss) this.string(field, s);
    return this;
  }

  /** A sub-message field. */
  message(field: number, m: PbWriter): this {
    return this.bytes(field, m.finish());
  }

  /** Repeated sub-messages. */
  messages(field: number, ms: readonly PbWriter[]): this {
    for (const m of ms) this.message(field, m);
    return this;
  }

  /** The message's bytes. */
  finish(): Uint8Array {
    this.flushScratch();
    const n = this.chunks.reduce((a, c) => a + c.length, 0);
    const out = new Uint8Array(n);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
