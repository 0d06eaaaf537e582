/**
 * Dtypes of @nl/tensor: names, typed-array storage types, element sizes and type promotion.
 *
 * Today: 'float32' | 'float64' | 'int32' on the CPU. bfloat16/float16 are reserved for CUDA.
 * Promotion (binary ops): float64 > float32 > int32, like PyTorch without int64.
 */

/** Element type of a tensor. */
export type DType = 'float32' | 'float64' | 'int32';
/** Floating-point dtypes (those that can carry gradients). */
export type FloatDType = 'float32' | 'float64';
/** Typed array backing a CPU tensor of each dtype. */
export type TypedArray = Float32Array | Float64Array | Int32Array;
export type FloatTypedArray = Float32Array | Float64Array;

const CTORS = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
} as const;

/** All dtypes this build supports. */
export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32'];

/** Throws a clear error unless `d` is a supported dtype name. */
export function assertDType(d: unknown, where: string): asserts d is DType {
  if (d !== 'float32' && d !== 'float64' && d !== 'int32') {
    throw new TypeError(
      `${where}: unsupported dtype ${JSON.stringify(d)} (expected one of ${DTYPES.join(', ')})`,
    );
  }
}

/** True for float32/float64. */
export function isFloat(d: DType): d is FloatDType {
  return d !== 'int32';
}

/** Allocates a zero-filled typed array for `n` elements of dtype `d`. */
export function allocArray(d: DType, n: number): TypedArray {
  return new CTORS[d](n);
}

/** Bytes per element. */
export function itemSize(d: DType): number {
  return d === 'float64' ? 8 : 4;
}

/** The dtype a typed array holds, or throws for other arrays. */
export function dtypeOfArray(a: unknown, where: string): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  const name = (a as { constructor?: { name?: string } } | null)?.constructor?.name ?? typeof a;
  throw new TypeError(`${where}: expected a Float32Array, Float64Array or Int32Array, got ${name}`);
}

/** Result dtype of a binary op on two tensor dtypes (float64 > float32 > int32). */
export function promote(a: DType, b: DType): DType {
  if (a === b) return a;
  if (a === 'float64' || b === 'float64') return 'float64';
  return 'float32';
}

/** Dtype a JS number takes next to a tensor of dtype `other` (non-integers force a float). */
export function scalarDType(value: number, other: DType): DType {
  if (other === 'int32' && !Number.isInteger(value)) return 'float32';
  return other;
}
