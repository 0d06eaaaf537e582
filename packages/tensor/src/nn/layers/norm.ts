/**
 * `RMSNorm` and `LayerNorm` over the last dim, on the fused ops (weight ones, bias zeros).
 */
import { ones, zeros, type Tensor } from '../core.js';
import { layerNorm, rmsNorm } from '../functional/norm.js';
import { Module } from '../module.js';
import { checkDims, type ParamOptions } from './options.js';

/** Options of the norm layers. */
export interface NormOptions extends ParamOptions {
  /** Added under the square root (RMSNorm default 1e-6, LayerNorm 1e-5). */
  eps?: number;
  /** Learn a per-feature scale (and LayerNorm's shift); default true. */
  elementwiseAffine?: boolean;
  /** LayerNorm only: learn the shift (default true; needs elementwiseAffine). */
  bias?: boolean;
}

export class RMSNorm extends Module {
  /** [dim], or null without affine */
  weight: Tensor | null = null;
  readonly eps: number;

  constructor(
    readonly dim: number,
    options: NormOptions = {},
  ) {
    super();
    checkDims('RMSNorm', { dim });
    this.eps = options.eps ?? 1e-6;
    if (options.elementwiseAffine ?? true) {
      this.weight = this.registerParameter('weight', ones([dim], { dtype: options.dtype ?? 'float32' }));
    }
  }

  /** x [..., dim] -> [..., dim] */
  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight, this.eps);
  }
}

export class LayerNorm extends Module {
  /** [dim], or null without affine */
  weight: Tensor | null = null;
  /** [dim], or null */
  bias: Tensor | null = null;
  readonly eps: number;

  constructor(
    readonly dim: number,
    options: NormOptions = {},
  ) {
    super();
    checkDims('LayerNorm', { dim });
    this.eps = options.eps ?? 1e-5;
    const dtype = options.dtype ?? 'float32';
    if (options.elementwiseAffine ?? true) {
      this.weight = this.registerParameter('weight', ones([dim], { dtype }));
      if (options.bias ?? true) this.bias = this.registerParameter('bias', zeros([dim], { dtype }));
    }
  }

  /** x [..., dim] -> [..., dim] */
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}
