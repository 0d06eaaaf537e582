/**
 * The fused decode entry points write x, the caches, the memories and the logits in place while
 * still reading the other operands: an operand sharing memory with a written one is refused with
 * an error naming both fields (native/src/binding/decode_args.h), on the lean and the checked
 * read alike; views on one buffer that do not overlap are fine.
 */
import { native } from '@nl/native';
import { describe, expect, it } from 'vitest';

const D = 8;
const H = 2;

/** Float32 views laid one after another on one ArrayBuffer (sizes in elements), filled with v. */
function views(sizes: Record<string, number>, v = 0.1): Record<string, Float32Array> {
  const total = Object.values(sizes).reduce((a, b) => a + b, 0);
  const buf = new Float32Array(total).fill(v);
  const out: Record<string, Float32Array> = {};
  let at = 0;
  for (const [k, n] of Object.entries(sizes)) {
    out[k] = buf.subarray(at, at + n);
    at += n;
  }
  return out;
}

/** `a` with `field` moved onto the memory of `onto` (from `shift` elements in, or the buffer's tail). */
function overlap(
  a: Record<string, Float32Array>,
  field: string,
  onto: string,
  shift: number,
): Record<string, Float32Array> {
  const src = a[onto]!;
  const n = a[field]!.length;
  const all = new Float32Array(src.buffer);
  const start = Math.min(src.byteOffset / 4 + shift, all.length - n); // still inside or across onto
  return { ...a, [field]: all.subarray(start, start + n) };
}

const cases: {
  op: string;
  sizes: Record<string, number>;
  dims: object;
  call: (a: object, d: object) => void;
  pairs: [string, string][];
}[] = [
  {
    op: 'decodeAttentionBlock',
    sizes: { x: D, norm1: D, wq: D * D, wk: D * D, wv: D * D, wo: D * D, norm2: D, wGate: 6 * D, wUp: 6 * D, wDown: 6 * D, kCache: 32, vCache: 32 }, // prettier-ignore
    dims: { tokens: 1, d: D, heads: H, hidden: 6, position: 0, capacity: 4, eps: 1e-6, ropeBase: 10000 },
    call: (a, d) => native.decodeAttentionBlock(a as never, d as never),
    pairs: [
      ['wq', 'x'],
      ['kCache', 'vCache'],
      ['norm2', 'kCache'],
    ],
  },
  {
    op: 'decodeHead',
    sizes: { x: D, norm: D, head: 5 * D, logits: 5 },
    dims: { tokens: 1, d: D, vocab: 5, eps: 1e-6 },
    call: (a, d) => native.decodeHead(a as never, d as never),
    pairs: [
      ['logits', 'head'],
      ['x', 'logits'],
    ],
  },
  {
    op: 'decodeDeltaNetBlock',
    sizes: { x: D, norm1: D, wQkv: 3 * D * D, conv: 3 * D * 4, wAlpha: H * D, wBeta: H * D, aLog: H, dtBias: H, outNorm: D / H, wGateOut: D * D, wOut: D * D, norm2: D, wGate: 6 * D, wUp: 6 * D, wDown: 6 * D, convCache: 9 * D, memory: 2 * 16 }, // prettier-ignore
    dims: { tokens: 1, d: D, heads: H, hidden: 6, window: 4, eps: 1e-6 },
    call: (a, d) => native.decodeDeltaNetBlock(a as never, d as never),
    pairs: [
      ['memory', 'convCache'],
      ['norm1', 'x'],
      ['aLog', 'memory'],
    ],
  },
  {
    op: 'decodeTitansBlock',
    sizes: { x: D, norm1: D, wQkv: 3 * D * D, conv: 3 * D * 4, wTheta: H * D, bTheta: H, wEta: H * D, bEta: H, wAlpha: H * D, bAlpha: H, outNorm: D / H, wGateOut: D * D, wOut: D * D, norm2: D, wGate: 6 * D, wUp: 6 * D, wDown: 6 * D, convCache: 9 * D, memory: 6 * D * 3 }, // prettier-ignore
    dims: { tokens: 1, d: D, heads: H, hidden: 6, memoryHidden: 3, window: 4, chunkSize: 16, position: 0, eps: 1e-6, thetaMax: 0.1, etaMax: 0.9, alphaMax: 0.1 }, // prettier-ignore
    call: (a, d) => native.decodeTitansBlock(a as never, d as never),
    pairs: [
      ['x', 'memory'],
      ['bEta', 'convCache'],
      ['convCache', 'memory'],
    ],
  },
  {
    op: 'decodeHopeBlock',
    sizes: { x: D, norm1: D, conv: D * 4, convBias: D, wq: D * D, outNorm: D / H, wg: D * D, wo: D * D, norm2: D, cmsW1_0: 5 * D, cmsW2_0: 5 * D, cmsD2_0: 5 * D, convCache: 3 * D, mems: 5 * 8 * D * 3 }, // prettier-ignore
    dims: { tokens: 1, d: D, heads: H, memHidden: 3, cmsHidden: 5, levels: 1, window: 4, position: 0, chunkMem: 4, chunkOther: 2, momentum: 0.9, alphaBias: 4, etaBias: -2, eps: 1e-6 }, // prettier-ignore
    call: (a, d) => native.decodeHopeBlock(a as never, d as never),
    pairs: [
      ['cmsD2_0', 'mems'],
      ['x', 'convCache'],
      ['convBias', 'x'],
    ],
  },
];

describe('fused decode entry points refuse operands that share memory with an in-place one', () => {
  for (const c of cases) {
    it(c.op, () => {
      const a = views(c.sizes, 0.05);
      c.call(a, c.dims); // adjacent views of one buffer: accepted
      expect(a.x!.every(Number.isFinite)).toBe(true);
      for (const [field, onto] of c.pairs) {
        for (const shift of [0, 1]) {
          const bad = overlap(views(c.sizes, 0.05), field, onto, shift);
          const msg = new RegExp(
            `${c.op}: arrays\\.(${field}|${onto}) and arrays\\.(${field}|${onto}) share memory`,
          );
          expect(() => c.call(bad, c.dims)).toThrow(msg);
          // the checked read (a non-enumerable field makes the lean read decline) names them too
          const hidden = Object.defineProperty({ ...bad }, 'norm1', { value: bad.norm1, enumerable: false });
          if (bad.norm1 !== undefined) expect(() => c.call(hidden, c.dims)).toThrow(msg);
        }
      }
    });
  }
});
