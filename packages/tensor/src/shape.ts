/**
 * Shape helpers: element counts, row-major strides, NumPy broadcasting, dim normalisation and
 * the "collapse" of dims that several strided operands can walk as one (used by the kernels).
 * Shapes are plain `readonly number[]`; a 0-d tensor has shape [].
 */

/** Number of elements of a shape (1 for []). */
export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  return n;
}

/** Row-major (C-contiguous) strides in elements. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** True when the strides walk the shape row-major with no gaps (size-1 dims ignored). */
export function isContiguousLayout(shape: readonly number[], strides: readonly number[]): boolean {
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] === 1) continue;
    if (shape[i] === 0) return true;
    if (strides[i] !== acc) return false;
    acc *= shape[i];
  }
  return true;
}

/** "[2, 3]" for messages. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Checks that `shape` is a list of non-negative integers. */
export function checkShape(shape: unknown, where: string): number[] {
  if (!Array.isArray(shape))
    throw new TypeError(`${where}: shape must be an array of integers, got ${typeof shape}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new RangeError(`${where}: shape ${JSON.stringify(shape)} must hold non-negative integers`);
    }
  }
  return shape.slice() as number[];
}

/** NumPy broadcast of two shapes; throws naming both shapes when they are incompatible. */
export function broadcastShapes(a: readonly number[], b: readonly number[], where: string): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(`${where}: shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast together`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides that read a tensor (shape, strides) as if broadcast to `target` (0 on broadcast dims). */
export function broadcastStrides(
  shape: readonly number[],
  strides: readonly number[],
  target: readonly number[],
): number[] {
  const n = target.length;
  const off = n - shape.length;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    if (i < off) out[i] = 0;
    else out[i] = shape[i - off] === 1 && target[i] !== 1 ? 0 : strides[i - off];
  }
  return out;
}

/** Normalises a possibly negative dim for a tensor of rank `ndim`. */
export function normDim(dim: number, ndim: number, where: string): number {
  if (!Number.isInteger(dim) || dim < -Math.max(ndim, 1) || dim >= Math.max(ndim, 1)) {
    throw new RangeError(`${where}: dim ${dim} is out of range for a tensor of rank ${ndim}`);
  }
  return dim < 0 ? dim + Math.max(ndim, 1) : dim;
}

function describeDim(d: unknown): string {
  if (typeof d === 'string') return JSON.stringify(d);
  if (Array.isArray(d))
    return `[${d.map((x) => (typeof x === 'string' ? JSON.stringify(x) : String(x))).join(', ')}]`;
  return d === null ? 'null' : typeof d === 'object' ? 'an object' : String(d);
}

/**
 * Normalises a dims argument (undefined = all dims) into sorted dims. Throws a TypeError for
 * anything but an integer or an array of integers and a RangeError for a repeated dim.
 */
export function normDims(
  dims: number | readonly number[] | undefined,
  ndim: number,
  where: string,
): number[] {
  if (dims === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof dims === 'number' ? [dims] : dims;
  if (!Array.isArray(list) || !list.every((d) => typeof d === 'number' && Number.isInteger(d))) {
    throw new TypeError(`${where}: dim must be an integer or an array of integers, got ${describeDim(dims)}`);
  }
  const seen = new Map<number, number>();
  for (const d of list) {
    const n = ndim === 0 ? (normDim(d, 1, where), 0) : normDim(d, ndim, where);
    if (seen.has(n)) {
      const first = seen.get(n)!;
      throw new RangeError(
        `${where}: dim ${d} is repeated in [${list.join(', ')}]` +
          (first === d ? '' : ` (${first} and ${d} are the same dim of a ${ndim}-d tensor)`),
      );
    }
    seen.set(n, d);
  }
  if (ndim === 0) return [];
  return [...seen.keys()].sort((x, y) => x - y);
}

/**
 * Merges adjacent dims that every operand walks with one stride, dropping size-1 dims.
 * Returns the collapsed shape and one collapsed stride list per operand (at least one dim).
 */
export function collapseDims(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k][last] === s[i] * shape[i])) {
      outShape[last] *= shape[i];
      for (let k = 0; k < strides.length; k++) outStrides[k][last] = strides[k][i];
    } else {
      outShape.push(shape[i]);
      for (let k = 0; k < strides.length; k++) outStrides[k].push(strides[k][i]);
    }
  }
  if (outShape.length === 0) {
    outShape.push(1);
    for (const s of outStrides) s.push(1);
  }
  return { shape: outShape, strides: outStrides };
}

/** True when two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
