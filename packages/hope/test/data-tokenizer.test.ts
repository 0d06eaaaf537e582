// Byte tokenizer and RNG: round trips on multi-byte text, id validation, streaming decode,
// seeded determinism and resumable RNG state.
import { describe, expect, it } from 'vitest';
import { BYTE_VOCAB_SIZE, ByteStreamDecoder, Rng, byteTokenizer } from '../src/index.js';

describe('ByteTokenizer', () => {
  const text = 'Héllo, 世界! 🐋 naïve — “quotes”';

  it('encodes to the UTF-8 bytes and decodes back exactly', () => {
    const ids = byteTokenizer.encode(text);
    expect(ids).toBeInstanceOf(Int32Array);
    expect(Array.from(ids)).toEqual(Array.from(Buffer.from(text, 'utf8')));
    expect(ids.length).toBeGreaterThan([...text].length); // multi-byte characters
    expect(byteTokenizer.decode(ids)).toBe(text);
    expect(byteTokenizer.vocabSize).toBe(BYTE_VOCAB_SIZE);
    expect(Math.max(...ids)).toBeLessThan(256);
  });

  it('rejects ids outside [0, 256) naming the position', () => {
    expect(() => byteTokenizer.decode([65, 256])).toThrow(/id 256 at position 1/);
    expect(() => byteTokenizer.decode([-1])).toThrow(/outside/);
    expect(() => byteTokenizer.decode([1.5])).toThrow(/outside/);
  });

  it('decodes a truncated character as U+FFFD', () => {
    const ids = byteTokenizer.encode('é'); // 2 bytes
    expect(byteTokenizer.decode(ids.subarray(0, 1))).toBe('\uFFFD');
  });

  it('streams ids one at a time without splitting characters', () => {
    const dec = new ByteStreamDecoder();
    let out = '';
    const pieces: string[] = [];
    for (const id of byteTokenizer.encode(text)) {
      const s = dec.push([id]);
      pieces.push(s);
      out += s;
    }
    out += dec.end();
    expect(out).toBe(text);
    expect(pieces.some((p) => p === '')).toBe(true); // held back mid-character
  });
});

describe('Rng', () => {
  it('same seed gives the same stream; different seeds differ', () => {
    const a = Rng.fromSeed(42);
    const b = Rng.fromSeed(42);
    const c = Rng.fromSeed(43);
    const sa = Array.from({ length: 20 }, () => a.nextU32());
    expect(Array.from({ length: 20 }, () => b.nextU32())).toEqual(sa);
    expect(Array.from({ length: 20 }, () => c.nextU32())).not.toEqual(sa);
  });

  it('seed 0 works and values are in range', () => {
    const r = Rng.fromSeed(0);
    for (let i = 0; i < 1000; i++) {
      const u = r.next();
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      const k = r.int(7);
      expect(Number.isInteger(k) && k >= 0 && k < 7).toBe(true);
    }
  });

  it('int(n) is roughly uniform', () => {
    const r = Rng.fromSeed(7);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 20000; i++) counts[r.int(10)]++;
    for (const c of counts) expect(Math.abs(c - 2000)).toBeLessThan(200);
  });

  it('state round-trips through JSON and continues the stream exactly', () => {
    const r = Rng.fromSeed(123);
    for (let i = 0; i < 5; i++) r.nextU32();
    const saved = JSON.parse(JSON.stringify(r.state()));
    const rest = Array.from({ length: 10 }, () => r.nextU32());
    const r2 = Rng.fromState(saved);
    expect(Array.from({ length: 10 }, () => r2.nextU32())).toEqual(rest);
  });

  it('rejects bad seeds and states', () => {
    expect(() => Rng.fromSeed(1.5)).toThrow(/safe integer/);
    expect(() => Rng.fromState([0, 0, 0, 0])).toThrow(/not all zero/);
    expect(() => Rng.fromState([1, 2, 3])).toThrow(/invalid Rng state/);
    expect(() => Rng.fromState('x')).toThrow(/invalid Rng state/);
    expect(() => Rng.fromSeed(1).int(0)).toThrow(/bound/);
  });
});
