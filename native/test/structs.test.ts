/** The memory kernels' struct boundary: native/README.md's snippet, and errors naming the field. */
import { describe, expect, it } from 'vitest';
import { native } from '@nl/native';

const n = (...s: number[]) => new Float32Array(s.reduce((a, b) => a * b, 1));

describe('memory kernels take (arrays, dims) structs', () => {
  const [B, T, H, D, Dh] = [1, 8, 2, 4, 3];
  const arrays = () => ({
    q: n(B, T, H, D), k: n(B, T, H, D), v: n(B, T, H, D), theta: n(B, T, H), eta: n(B, T, H), alpha: n(B, T, H),
    w1: n(B, H, D, Dh), w2: n(B, H, Dh, D),
    o: n(B, T, H, D), w1Out: n(B, H, D, Dh), w2Out: n(B, H, Dh, D), s1Out: n(B, H, D, Dh), s2Out: n(B, H, Dh, D),
  }); // prettier-ignore
  const dims = { batch: B, seqLen: T, heads: H, d: D, hidden: Dh, chunkSize: 4, readAfterWrite: true };

  it('README snippet: titansMlpForward runs; a missing dims field is named', () => {
    const a = arrays();
    a.w1.fill(0.1);
    a.q.fill(1);
    native.titansMlpForward(a, dims);
    expect(a.o.some((x) => x !== 0)).toBe(true);
    const { hidden: _h, ...noHidden } = dims;
    expect(() => native.titansMlpForward(a, noHidden as never)).toThrow(
      /^nl\.titansMlpForward: dims\.hidden is missing \(expected an integer >= 1\)$/,
    );
  });

  it('names ill-typed, out-of-range, wrong-size, wrong-dtype and unknown fields', () => {
    const a = arrays();
    const op = native.titansMlpForward.bind(native) as (x: unknown, d: unknown) => void;
    expect(() => op(a, { ...dims, batch: '1' })).toThrow(/dims\.batch must be an integer >= 1, got a string/);
    expect(() => op(a, { ...dims, heads: 1.5 })).toThrow(/dims\.heads must be an integer >= 1, got 1\.5/);
    expect(() => op(a, { ...dims, readAfterWrite: 1 })).toThrow(/dims\.readAfterWrite must be a boolean, got a number/);
    expect(() => op({ ...a, w2: n(3) }, dims)).toThrow(/arrays\.w2 must have 24 elements for \[B, H, Dh, D\] = \[1, 2, 3, 4\], got 3/);
    expect(() => op({ ...a, theta: [1, 2] }, dims)).toThrow(/arrays\.theta must be a Float32Array or Float64Array, got an array/);
    expect(() => op({ ...a, s1: new Float64Array(B * H * D * Dh) }, dims)).toThrow(/arrays\.s1 is a Float64Array but earlier arrays are Float32Array/);
    expect(() => op({ ...a, S1: n(B, H, D, Dh) }, dims)).toThrow(/arrays\.S1 is not a field of titansMlpForward arrays \(fields: q, k, v/);
    expect(() => op(a, { ...dims, chunk: 4 })).toThrow(/dims\.chunk is not a field of titansMlpForward dims/);
    expect(() => op(a, undefined)).toThrow(/argument 2 \(dims\) must be an object of named fields/);
  }); // prettier-ignore

  it('selfModForward / selfModBackward read their dims struct (mems must match adaptiveQ)', () => {
    const M = 5;
    const st = () => ({ w1: n(1, M, 1, 2, 2), w2: n(1, M, 1, 2, 2), s1: n(1, M, 1, 2, 2), s2: n(1, M, 1, 2, 2), a1: n(1, M, 1, 2, 2), a2: n(1, M, 1, 2, 2) }); // prettier-ignore
    const d = { batch: 1, seqLen: 3, heads: 1, d: 2, hidden: 2, mems: M, tokens: 0, chunkMem: 2, chunkOther: 2, momentum: 0.9, alphaBias: 4, etaBias: -2, adaptiveQ: false, readSnapshot: false }; // prettier-ignore
    const s = st();
    const a = { x: n(1, 3, 1, 2), q: n(1, 3, 1, 2), ...s, o: n(1, 3, 1, 2), w1Out: n(1, M, 1, 2, 2), w2Out: n(1, M, 1, 2, 2), s1Out: n(1, M, 1, 2, 2), s2Out: n(1, M, 1, 2, 2), a1Out: n(1, M, 1, 2, 2), a2Out: n(1, M, 1, 2, 2) }; // prettier-ignore
    native.selfModForward(a, d);
    expect(() => native.selfModForward(a, { ...d, adaptiveQ: true })).toThrow(
      /dims\.mems must be 5 .* or 6 with adaptiveQ/,
    );
    expect(() => native.selfModForward(a, { ...d, momentum: Number.NaN })).toThrow(
      /dims\.momentum must be a finite number, got NaN/,
    );
    const g = st();
    native.selfModBackward(
      { x: a.x, q: a.q, ...s, dO: n(1, 3, 1, 2), dx: n(1, 3, 1, 2), dq: n(1, 3, 1, 2), gW1: g.w1, gW2: g.w2, gS1: g.s1, gS2: g.s2, gA1: g.a1, gA2: g.a2 },
      { ...d, block: 16 },
    ); // prettier-ignore
    expect(() => native.selfModBackward({ x: a.x } as never, d)).toThrow(
      /nl\.selfModBackward: arrays\.q is missing/,
    );
  });
});
