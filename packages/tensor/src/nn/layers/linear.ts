/**
 * `Linear`: y = x W^T + b with W [out, in] (PyTorch's layout, so PyTorch weights load as is).
 * Initialised like torch.nn.Linear: W and b ~ U(-1/sqrt(in), 1/sqrt(in)).
 */
import { empty, type Tensor } from '../core.js';
import { linear } from '../functional/linear.js';
import { kaimingUniform_, uniform_ } from '../init.js';
import { Module } from '../module.js';
import { checkDims, type ParamOptions } from './options.js';

/** Options of `Linear`. */
export interface LinearOptions extends ParamOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
}

export class Linear extends Module {
  /** [out, in] */
  weight: Tensor;
  /** [out], or null without bias */
  bias: Tensor | null;

  /**
   * @param inFeatures - size of the last dim of the input
   * @param outFeatures - size of the last dim of the output
   */
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    checkDims('Linear', { inFeatures, outFeatures });
    const dtype = options.dtype ?? 'float32';
    this.weight = this.registerParameter('weight', empty([outFeatures, inFeatures], { dtype }));
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    this.bias = null;
    if (options.bias ?? true) {
      const bound = inFeatures > 0 ? 1 / Math.sqrt(inFeatures) : 0;
      this.bias = this.registerParameter('bias', uniform_(empty([outFeatures], { dtype }), -bound, bound));
    }
  }

  /**
   * @param x - [..., in]
   * @returns [..., out]
   */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}
