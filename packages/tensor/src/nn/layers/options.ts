/**
 * Options and argument checks shared by the layers.
 */
import type { FloatDType } from '../../dtype.js';

/** Common layer options. */
export interface ParamOptions {
  /** Parameter dtype (default 'float32'; use 'float64' for gradient checks). */
  dtype?: FloatDType;
}

/** Throws unless every size is a positive integer, naming the layer and the argument. */
export function checkDims(layer: string, sizes: Record<string, number>): void {
  for (const [name, v] of Object.entries(sizes)) {
    if (!Number.isInteger(v) || v < 1)
      throw new RangeError(`${layer}: ${name} must be a positive integer, got ${v}`);
  }
}
