/**
 * `CausalSelfAttention`: multi-head causal self-attention with PyTorch-layout projections
 * (q, k, v, o: Linear(dim, dim)). x [B, T, D] -> [B, T, D]; heads split D into H x D/H.
 */
import type { Tensor } from '../core.js';
import { scaledDotProductAttention } from '../functional/attention.js';
import { Module } from '../module.js';
import { Linear } from './linear.js';
import { checkDims, type ParamOptions } from './options.js';

export class CausalSelfAttention extends Module {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly o: Linear;
  readonly headDim: number;

  /**
   * @param dim - model width D
   * @param numHeads - H; must divide D
   */
  constructor(
    readonly dim: number,
    readonly numHeads: number,
    options: ParamOptions & { bias?: boolean } = {},
  ) {
    super();
    checkDims('CausalSelfAttention', { dim, numHeads });
    if (dim % numHeads !== 0) {
      throw new RangeError(`CausalSelfAttention: numHeads ${numHeads} must divide dim ${dim}`);
    }
    this.headDim = dim / numHeads;
    const o = { dtype: options.dtype, bias: options.bias ?? false };
    this.q = this.registerModule('q', new Linear(dim, dim, o));
    this.k = this.registerModule('k', new Linear(dim, dim, o));
    this.v = this.registerModule('v', new Linear(dim, dim, o));
    this.o = this.registerModule('o', new Linear(dim, dim, o));
  }

  /** x [B, T, D] -> [B, T, D] */
  forward(x: Tensor): Tensor {
    if (x.shape.length !== 3 || x.shape[2] !== this.dim) {
      throw new RangeError(`CausalSelfAttention: x must be [B, T, ${this.dim}], got [${x.shape.join(', ')}]`);
    }
    const [b, t] = x.shape;
    const temps: Tensor[] = [];
    const tmp = (y: Tensor): Tensor => (temps.push(y), y);
    try {
      const heads = (l: Linear): Tensor =>
        tmp(tmp(tmp(l.forward(x)).reshape([b, t, this.numHeads, this.headDim])).transpose(1, 2)); // [B, H, T, Dh]
      const y = tmp(scaledDotProductAttention(heads(this.q), heads(this.k), heads(this.v), { causal: true }));
      const merged = tmp(tmp(y.transpose(1, 2)).reshape([b, t, this.dim])); // [B, T, D]
      return this.o.forward(merged);
    } finally {
      for (const y of temps) y.dispose();
    }
  }
}
