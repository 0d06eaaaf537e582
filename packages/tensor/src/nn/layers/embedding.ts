/**
 * `Embedding`: a [num, dim] table looked up by int32 ids; initialised N(0, 1) like PyTorch.
 */
import { empty, type Tensor } from '../core.js';
import { embedding } from '../functional/embedding.js';
import { normal_ } from '../init.js';
import { Module } from '../module.js';
import { checkDims, type ParamOptions } from './options.js';

export class Embedding extends Module {
  /** [numEmbeddings, embeddingDim] */
  weight: Tensor;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    options: ParamOptions = {},
  ) {
    super();
    checkDims('Embedding', { numEmbeddings, embeddingDim });
    const w = empty([numEmbeddings, embeddingDim], { dtype: options.dtype ?? 'float32' });
    this.weight = this.registerParameter('weight', normal_(w));
  }

  /**
   * @param ids - int32 [...], each in [0, numEmbeddings)
   * @returns [..., embeddingDim]
   */
  forward(ids: Tensor): Tensor {
    return embedding(ids, this.weight);
  }
}
