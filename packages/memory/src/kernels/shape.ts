/**
 * Shapes and input checks shared by every @nl/memory kernel (references and native wrappers).
 *
 * Layouts (row-major, plain typed arrays):
 *   q, k        [B, T, H, Dk]
 *   v, o        [B, T, H, Dv]
 *   gates       [B, T, H]        one scalar per token and head
 *   states      [B, H, ...]      per (batch, head) matrices; each kernel documents its own
 * Errors start with the op name ("nl.deltaRule: ...") and name the argument and the problem.
 */

/** Float arrays accepted by the kernels. References compute in float64 whatever they get. */
export type FloatArray = Float32Array | Float64Array;

/** Sizes of one sequence batch: B, T, H, key dim Dk and value dim Dv. */
export interface SeqShape {
  batch: number;
  seqLen: number;
  heads: number;
  dk: number;
  dv: number;
}

function isCount(x: unknown, min: number): boolean {
  return typeof x === 'number' && Number.isInteger(x) && x >= min;
}

/** Throws unless B, H, Dk, Dv are positive integers and T is a non-negative integer. */
export function checkShape(op: string, shape: SeqShape): void {
  if (shape === null || typeof shape !== 'object') throw new TypeError(`nl.${op}: shape must be an object`);
  for (const key of ['batch', 'heads', 'dk', 'dv'] as const) {
    if (!isCount(shape[key], 1)) {
      throw new RangeError(`nl.${op}: shape.${key} must be a positive integer, got ${String(shape[key])}`);
    }
  }
  if (!isCount(shape.seqLen, 0)) {
    throw new RangeError(
      `nl.${op}: shape.seqLen must be a non-negative integer, got ${String(shape.seqLen)}`,
    );
  }
}

/** Human-readable "[B, T, H, D]" for error messages. */
export function dimsText(dims: number[]): string {
  return `[${dims.join(', ')}]`;
}

/** Throws unless `arr` is a Float32Array/Float64Array holding exactly the product of `dims`. */
export function checkArray(op: string, name: string, arr: unknown, dims: number[]): FloatArray {
  if (!(arr instanceof Float32Array) && !(arr instanceof Float64Array)) {
    throw new TypeError(`nl.${op}: ${name} must be a Float32Array or Float64Array`);
  }
  const n = dims.reduce((a, b) => a * b, 1);
  if (arr.length !== n) {
    throw new RangeError(
      `nl.${op}: ${name} must have ${n} elements for shape ${dimsText(dims)}, got ${arr.length}`,
    );
  }
  return arr;
}

/** Throws at the first non-finite entry of a gate array, naming its [b, t, h] position. */
export function checkFinite(op: string, name: string, arr: FloatArray, shape: SeqShape): void {
  for (let i = 0; i < arr.length; i++) {
    if (!Number.isFinite(arr[i])) {
      const h = i % shape.heads;
      const t = Math.floor(i / shape.heads) % shape.seqLen;
      const b = Math.floor(i / (shape.heads * shape.seqLen));
      throw new RangeError(`nl.${op}: ${name}[${b}, ${t}, ${h}] is not finite (${arr[i]})`);
    }
  }
}

/** Throws unless the chunk size is a positive integer. */
export function checkChunkSize(op: string, chunkSize: number): void {
  if (!isCount(chunkSize, 1)) {
    throw new RangeError(`nl.${op}: chunkSize must be a positive integer, got ${String(chunkSize)}`);
  }
}

/** Same dtype for every array of one call (native kernels need it). */
export function checkSameDtype(op: string, arrays: Record<string, FloatArray | undefined>): void {
  let first: string | undefined;
  let firstName = '';
  for (const [name, a] of Object.entries(arrays)) {
    if (a === undefined) continue;
    const t = a instanceof Float32Array ? 'Float32Array' : 'Float64Array';
    if (first === undefined) {
      first = t;
      firstName = name;
    } else if (t !== first) {
      throw new TypeError(
        `nl.${op}: all arrays must share a dtype, but ${firstName} is ${first} and ${name} is ${t}`,
      );
    }
  }
}
