/** Pieces shared by the ONNX exporters: host weights, RMSNorm, bias-free Linear, SwiGLU. */
import type { Tensor } from '@nl/tensor';
import type { OnnxGraph } from './onnx-graph.js';

/** A parameter's values on the host, float32. */
export function hostValues(t: Tensor): Float32Array {
  const v = t.to('cpu').dataSync(); // device -> host read: export copies the weights out
  return v instanceof Float32Array ? Float32Array.from(v) : Float32Array.from(v as ArrayLike<number>);
}

/** w [rows, cols] → wᵀ [cols, rows]. */
export function transposed(w: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c]!;
  return t;
}

/** The model's parameters by state-dict name, read once each, and graph helpers over them. */
export class ExportParts {
  private readonly sd: Record<string, Tensor>;

  constructor(
    readonly g: OnnxGraph,
    stateDict: Record<string, Tensor>,
    readonly label: string,
    readonly eps: number,
  ) {
    this.sd = stateDict;
  }

  param(name: string): Float32Array {
    const t = this.sd[name];
    if (!t) throw new Error(`${this.label}: the model has no parameter ${name}`);
    return hostValues(t);
  }

  /** An initializer holding the parameter as is. */
  raw(name: string, dims: number[]): string {
    return this.g.float(name, this.param(name), dims);
  }

  /** x [..., in] → [..., out] for a bias-free nn.Linear `name` (weight [out, in]). */
  linear(x: string, name: string, out: number, inF: number): string {
    const w = this.g.float(`${name}_T`, transposed(this.param(name), out, inF), [inF, out]);
    return this.g.node('MatMul', [x, w]);
  }

  /** x / √(mean(x²) + ε) · w over the last dim (nn.RMSNorm `name`, weight [dim]). */
  rmsNorm(x: string, name: string, dim: number): string {
    const { g } = this;
    const ms = g.node('ReduceMean', [g.node('Mul', [x, x])], { axes: [-1], keepdims: 1 });
    const epsC = g.float(`${name}_eps`, Float32Array.of(this.eps), []);
    const y = g.node('Div', [x, g.node('Sqrt', [g.node('Add', [ms, epsC])])]);
    return g.node('Mul', [y, this.raw(`${name}.weight`, [dim])]);
  }

  /** x · sigmoid(x). */
  silu(x: string): string {
    return this.g.node('Mul', [x, this.g.node('Sigmoid', [x])]);
  }

  /** nn.SwiGLU `name`: down(silu(gate x) ⊙ up x). */
  swiglu(x: string, name: string, dim: number, hidden: number): string {
    const gate = this.linear(x, `${name}.gate.weight`, hidden, dim);
    const up = this.linear(x, `${name}.up.weight`, hidden, dim);
    return this.linear(this.g.node('Mul', [this.silu(gate), up]), `${name}.down.weight`, dim, hidden);
  }
}
