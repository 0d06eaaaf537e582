/**
 * Pieces of the HopeLM ONNX exporter: what it supports (config fields, memories, CMS variant) with
 * TypeErrors naming the rest, and `HopeWeights` — the model's parameters as initializers, each
 * written once however many graphs (the main graph, a Loop body) read it, with a record of the
 * parameters consumed so that a parameter the exporter does not know is refused, not dropped.
 */
import type { Tensor } from '@nl/tensor';
import type { HopeLM } from '../models/hope.js';
import type { OnnxGraph } from './onnx-graph.js';
import { hostValues, transposed } from './onnx-parts.js';

/**
 * Config fields whose values the exported graph reproduces (every HopeConfig field of today but
 * `valueStream`, which is absent on purpose: a model with the value stream is refused by name).
 */
const SUPPORTED_FIELDS = new Set([
  'kind',
  'vocabSize',
  'dim',
  'layers',
  'heads',
  'memoryHidden',
  'chunkMem',
  'chunkOther',
  'momentum',
  'etaBias',
  'alphaBias',
  'cmsLevels',
  'cmsHidden',
  // ablation switches of the memory rule (Table 6): generators that never write, GD without DGD's
  // preconditioner; read as `staticGenerators === true` / `precondition === false`
  'staticGenerators',
  'precondition',
  // the per-token inner-gradient clip (issue 16), as @nl/memory's self-modifying-clip.ts
  'innerGradClip',
  // implementations of the same maths: the graph is the maths, whichever one the model runs
  'selfModImpl',
  'cmsImpl',
  // training-only choices, and initialisation (the graph takes the weights as they are)
  'trainGrad',
  'seed',
  'memoryInitStd',
  'tieEmbeddings',
  'dtype',
]);

/** The self-modifying memories the graph writes, in HopeFastState order (sorted names). */
export const HOPE_MEMORY_NAMES = ['alpha', 'eta', 'k', 'mem', 'v'] as const;

/** Refuses what the exporter cannot reproduce; `label` names the caller in the errors. */
export function checkHopeExportable(model: HopeLM, label: string): void {
  const c = model.config;
  if (c.dtype !== 'float32') throw new TypeError(`${label}: float32 models only, got dtype ${c.dtype}`);
  const unknown = Object.keys(c).filter((k) => !SUPPORTED_FIELDS.has(k));
  if (unknown.length > 0)
    throw new TypeError(
      `${label}: config field(s) ${unknown.join(', ')} are not supported by the ONNX export`,
    );
  model.blocks.forEach((b, i) => {
    const names = [...b.titans.names].sort();
    if (names.join() !== HOPE_MEMORY_NAMES.join())
      throw new TypeError(
        `${label}: layer ${i} has memories [${names.join(', ')}]; the export supports [${HOPE_MEMORY_NAMES.join(', ')}] (no adaptiveQ)`,
      );
    if (b.titans.frozen)
      throw new TypeError(`${label}: layer ${i}'s self-modifying memory is frozen; unfreeze it to export`);
    if (b.cms.variant !== 'sequential')
      throw new TypeError(
        `${label}: layer ${i}'s CMS variant '${b.cms.variant}' is not supported (sequential only)`,
      );
  });
}

/** The model's parameters as graph initializers, written once each, consumption recorded. */
export class HopeWeights {
  private readonly sd: Record<string, Tensor>;
  private readonly written = new Map<string, string>();
  private readonly consumed = new Set<string>();

  constructor(
    private readonly top: OnnxGraph,
    model: HopeLM,
    readonly label: string,
  ) {
    this.sd = model.stateDict() as Record<string, Tensor>;
    if (model.config.tieEmbeddings && this.sd['head.weight'] === undefined)
      this.sd['head.weight'] = this.sd['embed.weight']!;
  }

  /** Host values of parameter `name` (marked consumed). */
  param(name: string): Float32Array {
    const t = this.sd[name];
    if (!t) throw new TypeError(`${this.label}: the model has no parameter ${name}`);
    this.consumed.add(name);
    return hostValues(t);
  }

  /** Marks parameter `name` consumed without writing it (it enters the graph as a state input). */
  viaState(name: string): void {
    if (!this.sd[name]) throw new TypeError(`${this.label}: the model has no parameter ${name}`);
    this.consumed.add(name);
  }

  /** An initializer `key` computed once from `make` (later calls return the same name). */
  private once(key: string, dims: number[], make: () => Float32Array): string {
    const have = this.written.get(key);
    if (have !== undefined) return have;
    const name = this.top.float(key, make(), dims);
    this.written.set(key, name);
    return name;
  }

  /** Parameter `name` as it is. */
  raw(name: string, dims: number[]): string {
    return this.once(name, dims, () => this.param(name));
  }

  /** Parameter `name` [rows, cols] transposed → [cols, rows]. */
  rawT(name: string, rows: number, cols: number): string {
    return this.once(`${name}_T`, [cols, rows], () => transposed(this.param(name), rows, cols));
  }

  /** A float32 scalar constant. */
  scalar(key: string, v: number): string {
    return this.once(key, [], () => Float32Array.of(v));
  }

  /** Throws naming every parameter of the model that no part of the graph read. */
  checkAllConsumed(): void {
    const left = Object.keys(this.sd).filter((n) => !this.consumed.has(n));
    if (left.length > 0)
      throw new TypeError(
        `${this.label}: the model has parameter(s) the ONNX export does not know: ${left.join(', ')}`,
      );
  }
}

/** Graph helpers that emit into `g` (the main graph or a Loop body) over shared weights. */
export class HopeOps {
  constructor(
    readonly g: OnnxGraph,
    readonly W: HopeWeights,
  ) {}

  /** x [..., in] → [..., out] for a bias-free nn.Linear weight `name` [out, in]. */
  linear(x: string, name: string, out: number, inF: number): string {
    return this.g.node('MatMul', [x, this.W.rawT(name, out, inF)]);
  }

  /** nn.RMSNorm `name`: x / √(mean(x²) + 1e-6) · w over the last dim. */
  rmsNorm(x: string, name: string, dim: number, eps: number): string {
    const { g } = this;
    const ms = g.node('ReduceMean', [g.node('Mul', [x, x])], { axes: [-1], keepdims: 1 });
    const y = g.node('Div', [x, g.node('Sqrt', [g.node('Add', [ms, this.W.scalar(`eps_${eps}`, eps)])])]);
    return g.node('Mul', [y, this.W.raw(`${name}.weight`, [dim])]);
  }

  /** x · sigmoid(x). */
  silu(x: string): string {
    return this.g.node('Mul', [x, this.g.node('Sigmoid', [x])]);
  }

  /** silu'(p) = s (1 + p (1 − s)), s = sigmoid(p) (as @nl/memory's siluDerivative). */
  siluDerivative(p: string): string {
    const { g } = this;
    const s = g.node('Sigmoid', [p]);
    const one = this.W.scalar('one_f', 1);
    return g.node('Mul', [s, g.node('Add', [g.node('Mul', [p, g.node('Sub', [one, s])]), one])]);
  }

  /** x / (‖x‖₂ + 1e-6) along `axis`. */
  l2(x: string, axis: number): string {
    const { g } = this;
    const sq = g.node('ReduceSum', [g.node('Mul', [x, x]), g.int64([axis])], { keepdims: 1 });
    return g.node('Div', [x, g.node('Add', [g.node('Sqrt', [sq]), this.W.scalar('l2_eps', 1e-6)])]);
  }
}
