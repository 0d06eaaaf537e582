/**
 * ParamLike: the only thing @nl/optim needs from a parameter, so any tensor library (or plain
 * typed arrays) can plug in. `view` and `gradView` are LIVE zero-copy arrays of the parameter's
 * elements and of its gradient (row-major, contiguous); optimizers write `view` in place.
 */

/** Element arrays the optimizers work on. */
export type FloatArray = Float32Array | Float64Array;

/** Structural parameter contract (implemented by @nl/tensor's Tensor and by `paramFromArrays`). */
export interface ParamLike {
  /** Row-major shape; the product must equal `view.length`. */
  readonly shape: readonly number[];
  /** Live view of the values; updated in place by `step()`. */
  readonly view: FloatArray;
  /** Live view of the gradient, or null when the parameter has none this step. */
  readonly gradView: FloatArray | null;
}

/** A ParamLike over plain arrays whose gradient array can be swapped or cleared. */
export interface ArrayParam extends ParamLike {
  gradView: FloatArray | null;
}

/**
 * Wraps plain typed arrays as a parameter without copying.
 * @param values the parameter values (updated in place)
 * @param grads the gradient array (same length and type), or null
 * @param shape row-major shape; default `[values.length]`
 * @returns a ParamLike whose `view` is `values` and `gradView` is `grads`
 * @example
 * const w = new Float32Array([1, 2]); const g = new Float32Array([0.5, -1]);
 * const opt = new SGD([paramFromArrays(w, g)], { lr: 0.1 });
 * opt.step(); // w is now [0.95, 2.1]
 */
export function paramFromArrays(
  values: FloatArray,
  grads: FloatArray | null,
  shape: readonly number[] = [values.length],
): ArrayParam {
  checkParam({ shape, view: values, gradView: grads }, 'paramFromArrays');
  return { shape: [...shape], view: values, gradView: grads };
}

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Throws a clear error when a parameter is malformed. */
export function checkParam(p: ParamLike, where: string): void {
  if (!p || typeof p !== 'object') throw new TypeError(`${where}: parameter is not an object`);
  if (!(p.view instanceof Float32Array || p.view instanceof Float64Array))
    throw new TypeError(`${where}: parameter view must be a Float32Array or Float64Array`);
  if (!Array.isArray(p.shape) || p.shape.some((d) => !Number.isInteger(d) || d < 0))
    throw new TypeError(`${where}: parameter shape must be an array of non-negative integers`);
  if (numel(p.shape) !== p.view.length)
    throw new RangeError(
      `${where}: shape [${p.shape.join(', ')}] has ${numel(p.shape)} elements but view has ${p.view.length}`,
    );
  const g = p.gradView;
  if (g !== null && g !== undefined) {
    if (!(g instanceof Float32Array || g instanceof Float64Array))
      throw new TypeError(`${where}: gradView must be a Float32Array, Float64Array or null`);
    if (g.length !== p.view.length)
      throw new RangeError(`${where}: gradView has ${g.length} elements but view has ${p.view.length}`);
  }
}

/** Matrix view of a shape: 2-D and higher fold trailing dims into columns; 0/1-D is one row. */
export function asMatrix(shape: readonly number[]): { rows: number; cols: number } {
  if (shape.length < 2) return { rows: 1, cols: numel(shape) };
  return { rows: shape[0]!, cols: numel(shape) / Math.max(1, shape[0]!) };
}
