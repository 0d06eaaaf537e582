import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { native, OP_CODES } from '@nl/native';

const table = JSON.parse(
  readFileSync(new URL('../src/tables/op_codes.json', import.meta.url), 'utf8'),
) as Record<'binary' | 'unary' | 'rowReduce', string[]>;

describe('op codes come from one table (src/tables/op_codes.json)', () => {
  it('OP_CODES (TypeScript) is the table: code = index in its list, names unique', () => {
    for (const family of ['binary', 'unary', 'rowReduce'] as const) {
      const names = table[family];
      expect(new Set(names).size).toBe(names.length);
      expect(OP_CODES[family]).toEqual(Object.fromEntries(names.map((n, i) => [n, i])));
    }
  });

  it('the loaded binary was compiled with the same table (rebuild the addon when this fails)', () => {
    expect(native.opCodes()).toEqual({
      binary: { ...OP_CODES.binary },
      unary: { ...OP_CODES.unary },
      rowReduce: { ...OP_CODES.rowReduce },
    });
  });

  it('codes the CPU SIMD kernels do not implement are rejected, naming the code', () => {
    const a = new Float32Array(4);
    for (const n of [OP_CODES.cpuSimd.binary, Object.keys(OP_CODES.binary).length, 1000]) {
      expect(() => native.tensorBinary(n, a, a, 0, a, 0, [4], [1], [1])).toThrow(
        new RegExp(`nl\\.tensorBinary: binary op code ${n} is not implemented by the CPU SIMD kernels`),
      );
    }
    const u = OP_CODES.cpuSimd.unary;
    expect(() => native.tensorUnary(u, a, a, 0, [4], [1], 0, 0)).toThrow(
      /unary op code \d+ is not implemented/,
    );
  });

  it('every code the TS side uses runs natively (add, exp, sum as spot checks)', () => {
    const x = Float64Array.from([1, 2, 3, 4]);
    const out = new Float64Array(4);
    native.tensorBinary(OP_CODES.binary.add!, out, x, 0, x, 0, [4], [1], [1]);
    expect([...out]).toEqual([2, 4, 6, 8]);
    native.tensorUnary(OP_CODES.unary.square!, out, x, 0, [4], [1], 0, 0);
    expect([...out]).toEqual([1, 4, 9, 16]);
    const s = new Float64Array(1);
    native.tensorReduceRows(OP_CODES.rowReduce.sum!, s, x, 0, 1, 4);
    expect(s[0]).toBe(10);
  });
});
