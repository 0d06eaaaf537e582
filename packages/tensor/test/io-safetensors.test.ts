// Byte-level safetensors: exact bytes the Python library writes (copied from
// huggingface/safetensors bindings/python/tests/test_simple.py), round trips over every dtype,
// 0-rank and empty tensors, and every corruption case the decoder must name.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { halfToFloat32 } from '../src/io/dtypes.js';
import { loadFile, saveFile } from '../src/io/file.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsRecord } from '../src/io/safetensors.js';

const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));
/** Builds a file from a u64 header length, header text (with its padding) and data bytes. */
function file(headerLen: number, header: string, data: number[]): Uint8Array {
  return new Uint8Array([headerLen, 0, 0, 0, 0, 0, 0, 0, ...ascii(header), ...data]);
}
/** A file whose header length is whatever the header text is (no padding). */
function raw(header: string, data: number[] = []): Uint8Array {
  return file(header.length, header, data);
}
const zeros = (n: number): number[] => new Array<number>(n).fill(0);
const TEST_HEADER = '{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}';

describe('safetensors bytes written by the Python library', () => {
  it('encodes one I32 tensor exactly as safetensors.numpy.save does (padded to 64)', () => {
    const data = new Int32Array([0, 0, 0, 1]);
    const out = encodeSafetensors({ test: { dtype: 'I32', shape: [2, 2], data } });
    const expected = file(64, TEST_HEADER + '    ', [...zeros(12), 1, 0, 0, 0]);
    expect(Array.from(out)).toEqual(Array.from(expected));
  });

  it('orders by dtype alignment then name, like the Python writer (header 128)', () => {
    const i32 = { dtype: 'I32', shape: [2, 2], data: new Int32Array(4) } as const;
    const f16 = { dtype: 'F16', shape: [2, 2], data: new Uint16Array(4) } as const;
    const a = encodeSafetensors({ test1: i32, test2: f16 });
    const b = encodeSafetensors({ test2: f16, test1: i32 });
    const header =
      '{"test1":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]},' +
      '"test2":{"dtype":"F16","shape":[2,2],"data_offsets":[16,24]}}      ';
    expect(Array.from(a)).toEqual(Array.from(file(0x80, header, zeros(24))));
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('writes __metadata__ first (header 96)', () => {
    const out = encodeSafetensors(
      { test1: { dtype: 'I32', shape: [2, 2], data: new Int32Array(4) } },
      { framework: 'pt' },
    );
    const header =
      '{"__metadata__":{"framework":"pt"},"test1":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}} ';
    expect(Array.from(out)).toEqual(Array.from(file(0x60, header, zeros(16))));
  });

  it('decodes the unpadded file from the Python deserialization test', () => {
    const bytes = file(0x3c, TEST_HEADER, zeros(16));
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(Object.keys(tensors)).toEqual(['test']);
    expect(tensors.test.dtype).toBe('I32');
    expect(tensors.test.shape).toEqual([2, 2]);
    expect(tensors.test.data).toEqual(new Int32Array(4));
    expect(metadata).toEqual({});
  });

  it('decodes metadata and hand-built float bit patterns', () => {
    // 1.0f = 0x3f800000, -2.5f = 0xc0200000, little-endian
    const header = '{"__metadata__":{"k":"v"},"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    const bytes = raw(header, [0, 0, 0x80, 0x3f, 0, 0, 0x20, 0xc0]);
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(Array.from(tensors.x.data as Float32Array)).toEqual([1, -2.5]);
    expect(metadata).toEqual({ k: 'v' });
  });

  it('decodes half-precision bits (F16 and BF16) to float32', () => {
    // F16: 1.0 = 0x3c00, -2 = 0xc000, 65504 = 0x7bff, 2^-24 = 0x0001; BF16: 1.0 = 0x3f80
    const f16 = halfToFloat32(new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00]), 'F16');
    expect(Array.from(f16)).toEqual([1, -2, 65504, 2 ** -24, Infinity]);
    const bf16 = halfToFloat32(new Uint16Array([0x3f80, 0xc040]), 'BF16');
    expect(Array.from(bf16)).toEqual([1, -3]);
  });
});

describe('safetensors round trips', () => {
  it('round-trips every supported dtype, 0-rank and empty tensors', () => {
    const records: Record<string, SafetensorsRecord> = {
      f64: { dtype: 'F64', shape: [3], data: new Float64Array([1.5, -Math.PI, 1e-300]) },
      f32: { dtype: 'F32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
      i64: { dtype: 'I64', shape: [2], data: new BigInt64Array([-1n, 2n ** 40n]) },
      i32: { dtype: 'I32', shape: [], data: new Int32Array([-7]) },
      bf16: { dtype: 'BF16', shape: [1], data: new Uint16Array([0x3f80]) },
      f16: { dtype: 'F16', shape: [1, 1], data: new Uint16Array([0x3c00]) },
      i16: { dtype: 'I16', shape: [1], data: new Int16Array([-3]) },
      i8: { dtype: 'I8', shape: [3], data: new Int8Array([-1, 0, 1]) },
      u8: { dtype: 'U8', shape: [3], data: new Uint8Array([255, 0, 7]) },
      bool: { dtype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) },
      u16: { dtype: 'U16', shape: [1], data: new Uint16Array([65535]) },
      u32: { dtype: 'U32', shape: [1], data: new Uint32Array([2 ** 32 - 1]) },
      u64: { dtype: 'U64', shape: [1], data: new BigUint64Array([2n ** 64n - 1n]) },
      empty: { dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
      empty2: { dtype: 'F64', shape: [4, 0], data: new Float64Array(0) },
    };
    const bytes = encodeSafetensors(records, { note: 'ünïcode ✓', epoch: '3' });
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLen) % 8).toBe(0);
    const back = decodeSafetensors(bytes);
    expect(back.metadata).toEqual({ note: 'ünïcode ✓', epoch: '3' });
    expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(records).sort());
    for (const [name, r] of Object.entries(records)) {
      expect(back.tensors[name].dtype, name).toBe(r.dtype);
      expect(back.tensors[name].shape, name).toEqual(r.shape);
      expect(back.tensors[name].data, name).toEqual(r.data);
    }
  });

  it('copies out of an unaligned view of the bytes', () => {
    const bytes = encodeSafetensors({
      a: { dtype: 'U8', shape: [1], data: new Uint8Array([9]) },
      b: { dtype: 'F64', shape: [2], data: new Float64Array([0.1, 0.2]) },
    });
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const back = decodeSafetensors(shifted.subarray(3));
    expect(Array.from(back.tensors.b.data as Float64Array)).toEqual([0.1, 0.2]);
    expect(Array.from(back.tensors.a.data as Uint8Array)).toEqual([9]);
  });

  it('encodes an empty file as an empty header', () => {
    const bytes = encodeSafetensors({});
    expect(Array.from(bytes)).toEqual(Array.from(file(8, '{}      ', [])));
    expect(decodeSafetensors(bytes)).toEqual({ tensors: {}, metadata: {} });
  });
});

describe('safetensors encoder rejects bad records', () => {
  it.each([
    [
      { x: { dtype: 'F32', shape: [3], data: new Float32Array(2) } },
      /shape \[3\] has 3 elements but data has 2/,
    ],
    [
      { x: { dtype: 'F32', shape: [2], data: new Float64Array(2) } },
      /dtype F32 needs a Float32Array, got Float64Array/,
    ],
    [{ x: { dtype: 'Q4', shape: [1], data: new Float32Array(1) } }, /tensor 'x': unknown dtype "Q4"/],
    [{ x: { dtype: 'F8_E4M3', shape: [1], data: new Uint8Array(1) } }, /unsupported dtype 'F8_E4M3'/],
    [
      { x: { dtype: 'F32', shape: [-1], data: new Float32Array(1) } },
      /shape \[-1\] must hold non-negative integers/,
    ],
    [{ __metadata__: { dtype: 'F32', shape: [1], data: new Float32Array(1) } }, /'__metadata__' is reserved/],
  ])('%#', (records, msg) => {
    expect(() => encodeSafetensors(records as never)).toThrow(msg);
  });

  it('rejects non-string metadata values', () => {
    expect(() => encodeSafetensors({}, { n: 3 } as never)).toThrow(/metadata 'n' must be a string/);
  });
});

describe('safetensors decoder names every corruption', () => {
  const good = encodeSafetensors({
    a: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) },
    b: { dtype: 'F32', shape: [1], data: new Float32Array([3]) },
  });
  const entry = (dtype: string, shape: number[], offs: number[]): string =>
    JSON.stringify({ dtype, shape, data_offsets: offs });

  it.each([
    ['fewer than 8 bytes', new Uint8Array([1, 2, 3]), /truncated: 3 bytes, need at least 8/],
    [
      'header length past the end',
      file(200, '{}', []),
      /header length 200 runs past the end of the file \(10 bytes\)/,
    ],
    [
      'data section cut short',
      good.subarray(0, good.length - 2),
      /truncated: tensor 'b' ends at data byte 12 but the data section has 10 bytes/,
    ],
    [
      'huge header length',
      new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1, ...ascii('{}')]),
      /over the 100000000-byte limit/,
    ],
    ['bad JSON', raw('{"a":'), /header is not valid JSON/],
    ['not an object', raw('[1, 2]  '), /must be a JSON object starting with '\{'/],
    ['invalid UTF-8', new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe]), /not valid UTF-8/],
    ['unknown dtype', raw(`{"x":${entry('X9', [1], [0, 4])}}`, zeros(4)), /tensor 'x': unknown dtype "X9"/],
    [
      'unsupported dtype',
      raw(`{"x":${entry('F8_E5M2', [1], [0, 1])}}`, zeros(1)),
      /unsupported dtype 'F8_E5M2'/,
    ],
    [
      'size mismatch',
      raw(`{"x":${entry('F32', [3], [0, 8])}}`, zeros(8)),
      /shape \[3\] with dtype F32 needs 12 bytes but data_offsets \[0, 8\] span 8/,
    ],
    [
      'end before begin',
      raw(`{"x":${entry('F32', [0], [8, 4])}}`, zeros(8)),
      /data_offsets \[8, 4\] end before they begin/,
    ],
    [
      'bad offsets',
      raw(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[0]}}`, zeros(4)),
      /data_offsets must be \[begin, end\]/,
    ],
    [
      'missing shape',
      raw(`{"x":{"dtype":"F32","data_offsets":[0,4]}}`, zeros(4)),
      /tensor 'x': shape must be an array/,
    ],
    ['fractional shape', raw(`{"x":${entry('F32', [1.5], [0, 4])}}`, zeros(4)), /non-negative integers/],
    ['entry not an object', raw(`{"x":3}`), /tensor 'x': header entry must be an object/],
    [
      'hole',
      raw(`{"x":${entry('F32', [1], [0, 4])},"y":${entry('F32', [1], [8, 12])}}`, zeros(12)),
      /hole in the data section: bytes \[4, 8\) before tensor 'y'/,
    ],
    [
      'hole at start',
      raw(`{"x":${entry('F32', [1], [4, 8])}}`, zeros(8)),
      /hole in the data section: bytes \[0, 4\)/,
    ],
    [
      'overlap',
      raw(`{"x":${entry('F32', [2], [0, 8])},"y":${entry('F32', [1], [4, 8])}}`, zeros(8)),
      /tensor 'y' \(data_offsets \[4, 8\]\) overlaps tensor 'x' \(ends at 8\)/,
    ],
    [
      'trailing bytes',
      raw(`{"x":${entry('F32', [1], [0, 4])}}`, zeros(6)),
      /data section has 6 bytes but the tensors cover only 4: 2 trailing/,
    ],
    [
      'duplicate key',
      raw(`{"x":${entry('F32', [1], [0, 4])},"x":${entry('F32', [1], [0, 4])}}`, zeros(4)),
      /duplicate key 'x'/,
    ],
    ['metadata not strings', raw(`{"__metadata__":{"a":1}}`), /metadata 'a' must be a string/],
    ['metadata not an object', raw(`{"__metadata__":"x"}`), /'__metadata__' must be an object of strings/],
  ])('%s', (_name, bytes, msg) => {
    expect(() => decodeSafetensors(bytes)).toThrow(msg);
  });

  it('accepts nested braces and escaped quotes inside metadata without false duplicates', () => {
    const bytes = raw(`{"__metadata__":{"x":"a\\"}{,\\"x\\":"},"x":${entry('U8', [1], [0, 1])}}`, [5]);
    const back = decodeSafetensors(bytes);
    expect(back.metadata.x).toBe('a"}{,"x":');
    expect(Array.from(back.tensors.x.data as Uint8Array)).toEqual([5]);
  });
});

describe('safetensors files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nl-io-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('saves and loads a file', () => {
    const path = join(dir, 'a.safetensors');
    saveFile(path, { w: { dtype: 'F64', shape: [2], data: new Float64Array([1, 2]) } }, { v: '1' });
    const back = loadFile(path);
    expect(back.metadata).toEqual({ v: '1' });
    expect(Array.from(back.tensors.w.data as Float64Array)).toEqual([1, 2]);
  });

  it('a failed save keeps the previous file and leaves no temp file', () => {
    const path = join(dir, 'keep.safetensors');
    saveFile(path, { w: { dtype: 'F32', shape: [1], data: new Float32Array([7]) } });
    const before = readFileSync(path);
    const bad = { w: { dtype: 'F32', shape: [5], data: new Float32Array(1) } } as const;
    expect(() => saveFile(path, bad)).toThrow(/has 5 elements but data has 1/);
    expect(readFileSync(path)).toEqual(before);
    expect(() => saveFile(join(dir, 'no-such-dir', 'x.safetensors'), {})).toThrow(/cannot save/);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('names the file when loading fails', () => {
    const path = join(dir, 'corrupt.safetensors');
    writeFileSync(path, new Uint8Array([1, 2, 3]));
    expect(() => loadFile(path)).toThrow(/corrupt\.safetensors': file is truncated/);
    expect(() => loadFile(join(dir, 'missing.safetensors'))).toThrow(/cannot read .*missing\.safetensors/);
  });
});

describe('safetensors files written from PyTorch tensors (tools/fixtures/gen_tensor_fixtures.py)', () => {
  const fixtures = join(import.meta.dirname, 'fixtures');
  interface Expected {
    dtype: string;
    shape: number[];
    values: number[];
  }

  it('decodes every dtype to the values torch holds', () => {
    const { tensors, metadata } = loadFile(join(fixtures, 'dtypes.safetensors'));
    const expected = JSON.parse(readFileSync(join(fixtures, 'dtypes.json'), 'utf8')) as Record<
      string,
      Expected
    >;
    expect(metadata.generator).toBe('tools/fixtures/gen_tensor_fixtures.py');
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, e] of Object.entries(expected)) {
      const r = tensors[name];
      expect(r.dtype, name).toBe(e.dtype);
      expect(r.shape, name).toEqual(e.shape);
      const got =
        r.dtype === 'F16' || r.dtype === 'BF16'
          ? Array.from(halfToFloat32(r.data as Uint16Array, r.dtype))
          : Array.from(r.data as ArrayLike<number | bigint>, Number);
      expect(got, name).toEqual(e.values);
    }
  });

  it.each(['dtypes', 'mlp', 'attention'])('re-encodes %s.safetensors byte for byte', (name) => {
    const bytes = readFileSync(join(fixtures, `${name}.safetensors`));
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(Buffer.from(encodeSafetensors(tensors, metadata)).equals(bytes)).toBe(true);
  });
});
