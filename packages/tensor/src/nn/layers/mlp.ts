/**
 * Feed-forward blocks: `MLP` (Linear -> activation -> Linear) and `SwiGLU`
 * (down(silu(gate x) * up x), the LLaMA feed-forward).
 */
import type { Tensor } from '../core.js';
import { Module } from '../module.js';
import { Linear } from './linear.js';
import { checkDims, type ParamOptions } from './options.js';

/** Activations `MLP` accepts: 'gelu' is exact (erf), 'geluTanh' the tanh approximation. */
export type Activation = 'gelu' | 'geluTanh' | 'relu' | 'silu' | 'tanh';
const ACTIVATIONS: readonly string[] = ['gelu', 'geluTanh', 'relu', 'silu', 'tanh'];

/** Options of `MLP`. */
export interface MLPOptions extends ParamOptions {
  /** Default 'gelu'. */
  activation?: Activation;
  /** Output size (default: the input size). */
  outFeatures?: number;
  /** Biases on both Linears (default true). */
  bias?: boolean;
}

function activate(x: Tensor, a: Activation): Tensor {
  switch (a) {
    case 'gelu':
      return x.gelu();
    case 'geluTanh':
      return x.gelu({ approximate: 'tanh' });
    case 'relu':
      return x.relu();
    case 'silu':
      return x.silu();
    case 'tanh':
      return x.tanh();
    default:
      throw new Error(`MLP: unknown activation ${JSON.stringify(a)} (expected ${ACTIVATIONS.join(', ')})`);
  }
}

export class MLP extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly activation: Activation;

  /**
   * @param inFeatures - input size D
   * @param hiddenFeatures - hidden size H
   */
  constructor(inFeatures: number, hiddenFeatures: number, options: MLPOptions = {}) {
    super();
    checkDims('MLP', { inFeatures, hiddenFeatures });
    this.activation = options.activation ?? 'gelu';
    if (!ACTIVATIONS.includes(this.activation)) {
      throw new Error(
        `MLP: unknown activation ${JSON.stringify(this.activation)} (expected ${ACTIVATIONS.join(', ')})`,
      );
    }
    const o = { dtype: options.dtype, bias: options.bias };
    this.fc1 = this.registerModule('fc1', new Linear(inFeatures, hiddenFeatures, o));
    this.fc2 = this.registerModule('fc2', new Linear(hiddenFeatures, options.outFeatures ?? inFeatures, o));
  }

  /** x [..., D] -> [..., out] */
  forward(x: Tensor): Tensor {
    const h = this.fc1.forward(x);
    const a = activate(h, this.activation);
    h.dispose();
    const y = this.fc2.forward(a);
    a.dispose();
    return y;
  }
}

export class SwiGLU extends Module {
  /** D -> H */
  readonly gate: Linear;
  /** D -> H */
  readonly up: Linear;
  /** H -> D */
  readonly down: Linear;

  /**
   * @param dim - input and output size D
   * @param hidden - hidden size H
   */
  constructor(dim: number, hidden: number, options: ParamOptions & { bias?: boolean } = {}) {
    super();
    checkDims('SwiGLU', { dim, hidden });
    const o = { dtype: options.dtype, bias: options.bias ?? false };
    this.gate = this.registerModule('gate', new Linear(dim, hidden, o));
    this.up = this.registerModule('up', new Linear(dim, hidden, o));
    this.down = this.registerModule('down', new Linear(hidden, dim, o));
  }

  /** x [..., D] -> [..., D] */
  forward(x: Tensor): Tensor {
    const g = this.gate.forward(x);
    const u = this.up.forward(x);
    const s = g.silu();
    const h = s.mul(u);
    for (const t of [g, u, s]) t.dispose();
    const y = this.down.forward(h);
    h.dispose();
    return y;
  }
}
