// The protobuf writer behind the ONNX export, against the encodings worked out in the protocol
// buffers encoding guide (varint 150 → 08 96 01; "testing" as field 2 → 12 07 …), negative int64
// as a 10-byte two's-complement varint, fixed32 floats, nested messages length-prefixed, and a bad
// value named. (That ONNX Runtime parses whole exported models is tested in onnx-export.test.ts.)
import { describe, expect, it } from 'vitest';
import { PbWriter } from '../src/export/protobuf.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('PbWriter', () => {
  it('writes varints, strings and sub-messages as the encoding guide does', () => {
    expect(hex(new PbWriter().int(1, 150).finish())).toBe('089601');
    expect(hex(new PbWriter().string(2, 'testing').finish())).toBe('120774657374696e67');
    // message Test3 { Test1 c = 3; } with c.a = 150 → 1a 03 08 96 01
    expect(hex(new PbWriter().message(3, new PbWriter().int(1, 150)).finish())).toBe('1a03089601');
  });

  it('writes negative int64 as ten bytes and floats as little-endian fixed32', () => {
    expect(hex(new PbWriter().int(1, -1).finish())).toBe('08ffffffffffffffffff01');
    expect(hex(new PbWriter().int(1, -2).finish())).toBe('08feffffffffffffffff01');
    expect(hex(new PbWriter().float(2, 1).finish())).toBe('150000803f');
  });

  it('writes repeated fields unpacked, bytes verbatim, and large field numbers', () => {
    expect(hex(new PbWriter().intList(1, [1, 2]).finish())).toBe('08010802');
    expect(hex(new PbWriter().bytes(9, Uint8Array.of(0, 255)).finish())).toBe('4a0200ff');
    expect(hex(new PbWriter().int(20, 7).finish())).toBe('a00107');
    const big = new Uint8Array(300).fill(7);
    const out = new PbWriter().bytes(1, big).finish();
    expect(hex(out.subarray(0, 3))).toBe('0aac02'); // length 300 as a two-byte varint
    expect(out.length).toBe(303);
  });

  it('names a value that is not a safe integer', () => {
    expect(() => new PbWriter().int(3, 1.5)).toThrow(/field 3: 1.5 is not a safe integer/);
  });
});
