/**
 * Op codes of the addon's tensor kernels (tensorBinary / tensorUnary / tensorReduceRows /
 * tensorReduceCols), from the one table native/src/tables/op_codes.json: the code of an op is its
 * index in its list. The C++ enums (generated nl/op_codes.h) come from the same file at build
 * time; `native.opCodes()` reports what the loaded binary was compiled with.
 */
import table from '../src/tables/op_codes.json';

/** Op name → code, per kernel family. */
export interface OpCodeTable {
  binary: Readonly<Record<string, number>>;
  unary: Readonly<Record<string, number>>;
  rowReduce: Readonly<Record<string, number>>;
  /** Codes below these run on the CPU SIMD kernels; the rest only in JS (CPU) and on CUDA. */
  cpuSimd: Readonly<{ binary: number; unary: number }>;
}

const codes = (names: readonly string[]): Readonly<Record<string, number>> =>
  Object.freeze(Object.fromEntries(names.map((n, i) => [n, i])));

/** The op codes the TypeScript side uses (from src/tables/op_codes.json). */
export const OP_CODES: OpCodeTable = Object.freeze({
  binary: codes(table.binary),
  unary: codes(table.unary),
  rowReduce: codes(table.rowReduce),
  cpuSimd: Object.freeze({ ...table.cpuSimd }),
});
