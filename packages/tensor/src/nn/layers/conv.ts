/**
 * `CausalConv1d`: depthwise causal convolution over time, channels last ([B, T, C]).
 * Initialised like torch.nn.Conv1d(C, C, K, groups=C): U(-1/sqrt(K), 1/sqrt(K)).
 */
import { empty, type Tensor } from '../core.js';
import { causalConv1d } from '../functional/conv1d.js';
import { uniform_ } from '../init.js';
import { Module } from '../module.js';
import { checkDims, type ParamOptions } from './options.js';

export class CausalConv1d extends Module {
  /** [C, K] */
  weight: Tensor;
  /** [C], or null */
  bias: Tensor | null = null;

  constructor(
    readonly channels: number,
    readonly kernelSize: number,
    options: ParamOptions & { bias?: boolean } = {},
  ) {
    super();
    checkDims('CausalConv1d', { channels, kernelSize });
    const dtype = options.dtype ?? 'float32';
    const bound = 1 / Math.sqrt(kernelSize);
    this.weight = this.registerParameter(
      'weight',
      uniform_(empty([channels, kernelSize], { dtype }), -bound, bound),
    );
    if (options.bias ?? true) {
      this.bias = this.registerParameter('bias', uniform_(empty([channels], { dtype }), -bound, bound));
    }
  }

  /** x [B, T, C] -> [B, T, C] */
  forward(x: Tensor): Tensor {
    return causalConv1d(x, this.weight, this.bias);
  }
}
