/**
 * assertClose(name, expected, actual, {rtol, atol}): elementwise |a - e| <= atol + rtol * |e|,
 * with the failure message giving the worst index, the max absolute difference and the relative
 * RMS error (||a - e|| / ||e||). Accepts Tensors, typed arrays, (nested) number arrays or numbers.
 * Default tolerances depend on dtype: float32 rtol 1e-5 atol 1e-6; float64 rtol 1e-10 atol 1e-12.
 */
import { Tensor } from '../tensor.js';
import { fmtShape } from '../shape.js';

/** Something comparable. */
export type Comparable = Tensor | ArrayLike<number> | number | readonly unknown[];

export interface CloseOptions {
  rtol?: number;
  atol?: number;
}

function flatten(x: Comparable): {
  values: ArrayLike<number>;
  shape: readonly number[] | null;
  f32: boolean;
} {
  if (x instanceof Tensor) return { values: x.dataSync(), shape: x.shape, f32: x.dtype !== 'float64' };
  if (typeof x === 'number') return { values: [x], shape: null, f32: false };
  if (ArrayBuffer.isView(x))
    return { values: x as unknown as ArrayLike<number>, shape: null, f32: x instanceof Float32Array };
  const flat: number[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else flat.push(v as number);
  };
  walk(x);
  return { values: flat, shape: null, f32: false };
}

/**
 * Throws unless `actual` matches `expected` elementwise within tolerance (NaNs must match NaNs).
 * @param name - what is compared (first words of the message)
 */
export function assertClose(
  name: string,
  expected: Comparable,
  actual: Comparable,
  opts: CloseOptions = {},
): void {
  const e = flatten(expected);
  const a = flatten(actual);
  const f32 = e.f32 || a.f32;
  const rtol = opts.rtol ?? (f32 ? 1e-5 : 1e-10);
  const atol = opts.atol ?? (f32 ? 1e-6 : 1e-12);
  if (e.shape && a.shape && fmtShape(e.shape) !== fmtShape(a.shape)) {
    throw new Error(`${name}: shape mismatch, expected ${fmtShape(e.shape)} got ${fmtShape(a.shape)}`);
  }
  if (e.values.length !== a.values.length) {
    throw new Error(`${name}: length mismatch, expected ${e.values.length} values got ${a.values.length}`);
  }
  let maxDiff = 0;
  let worst = -1;
  let bad = 0;
  let num = 0;
  let den = 0;
  for (let i = 0; i < e.values.length; i++) {
    const ev = e.values[i];
    const av = a.values[i];
    if (Number.isNaN(ev) || Number.isNaN(av)) {
      if (Number.isNaN(ev) !== Number.isNaN(av)) {
        bad++;
        if (worst < 0) worst = i;
        maxDiff = NaN;
      }
      continue;
    }
    if (ev === av) continue; // infinities of the same sign
    const d = Math.abs(av - ev);
    num += d * d;
    den += ev * ev;
    if (!(d <= atol + rtol * Math.abs(ev))) {
      bad++;
      if (worst < 0 || d > maxDiff || Number.isNaN(maxDiff)) worst = i;
    }
    if (d > maxDiff) maxDiff = d;
  }
  if (bad > 0) {
    const rel = Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-300);
    throw new Error(
      `${name}: ${bad} of ${e.values.length} values differ (rtol ${rtol}, atol ${atol}); max abs diff ${maxDiff}, ` +
        `relative RMS ${rel.toExponential(3)}; worst at flat index ${worst}: expected ${e.values[worst]}, got ${a.values[worst]}`,
    );
  }
}
