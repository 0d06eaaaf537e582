/**
 * The ONNX export driver shared by the recurrent block LMs (DeltaNetLM, TitansLM): one token's
 * path through the model — embedding, every block's step with its recurrent state, final norm and
 * head — is built once by the model's `RecurrentSpec.block` and used by both graphs:
 *
 *   'step':    ids int32 [batch, 1], per block i every state `<name>_i` [batch, ...dims]
 *              (+ `position` int64 scalar when the spec uses it) → logits [batch, 1, V],
 *              `<name>_out_i` (+ `position_out`): feed the outputs back as the next inputs.
 *   'forward': ids int32 [batch, seq] → logits [batch, seq, V], an ONNX Loop over time of the same
 *              step from the model's start state (the final states come out as `<name>_out_i`,
 *              so a prompt can be prefilled by 'forward' and continued by 'step').
 *
 * Also the mixer pieces both models share (QKVConv step, ℓ2 norm, GatedOut, the MLP residual).
 */
import type { Tensor } from '@nl/tensor';
import type { BlockLM } from '../models/common.js';
import type { ShellConfig } from '../models/config-fields.js';
import { OnnxGraph } from './onnx-graph.js';
import { ExportParts, transposed } from './onnx-parts.js';

/** Which graph: the full-sequence forward or the one-token decode step. */
export type RecurrentExportMode = 'forward' | 'step';

/** Options of the recurrent exporters. */
export interface RecurrentExportOptions {
  /** 'forward' (ids [batch, seq] → logits, a Loop over time) or 'step' (one token, explicit state). */
  mode: RecurrentExportMode;
}

/** One recurrent state tensor of every block: its name and dims after the batch dim. */
export interface BlockStateSpec {
  name: string;
  dims: number[];
}

/** What a model kind contributes to the export. */
export interface RecurrentSpec {
  /** Names the exporter in errors, e.g. 'exportDeltaNetOnnx'. */
  label: string;
  /** Graph name prefix, e.g. 'deltanet'. */
  graph: string;
  /** The states of one block, in the order `block` takes and returns them. */
  states: BlockStateSpec[];
  /** Start value of state `name` of block `layer`: [1, ...dims] float32 (broadcast over batch). */
  initial(layer: number, name: string): Float32Array;
  /** Whether the step reads the token position (int64 scalar, tokens since the start). */
  usesPosition: boolean;
  /** One token through block `layer`: x [B, 1, D] and its states → the new x and states. */
  block(
    P: ExportParts,
    layer: number,
    x: string,
    states: string[],
    position: string,
  ): { x: string; states: string[] };
}

/** Writes the 'forward' or 'step' graph of `model` described by `spec` (see the file comment). */
export function exportRecurrentOnnx(
  model: BlockLM<ShellConfig>,
  opts: RecurrentExportOptions,
  spec: RecurrentSpec,
): Uint8Array {
  const c = model.config;
  const { label } = spec;
  if (c.dtype !== 'float32')
    throw new TypeError(`${label}: dtype: float32 models only, got ${String(c.dtype)}`);
  const mode = (opts as Partial<RecurrentExportOptions> | undefined)?.mode;
  if (mode !== 'forward' && mode !== 'step')
    throw new TypeError(`${label}: mode must be 'forward' or 'step', got ${String(mode)}`);
  const { dim: D, vocabSize: V, layers: L, normEps: eps } = c;
  const sd = model.stateDict() as Record<string, Tensor>;
  const g = new OnnxGraph();
  const S = spec.states.length;
  const stateName = (l: number, s: number) => `${spec.states[s]!.name}_${l}`;

  /** ids [B, 1] → logits [B, 1, V] and the next states, built in graph `b`. */
  const token = (b: OnnxGraph, ids: string, states: string[], position: string) => {
    const P = new ExportParts(b, sd, label, eps);
    let x = b.node('Gather', [P.raw('embed.weight', [V, D]), ids], { axis: 0 }); // [B, 1, D]
    const next: string[] = [];
    for (let l = 0; l < L; l++) {
      const r = spec.block(P, l, x, states.slice(l * S, (l + 1) * S), position);
      x = r.x;
      next.push(...r.states);
    }
    return { logits: P.linear(P.rmsNorm(x, 'normF', D), 'head.weight', V, D), states: next };
  };
  const outputStates = (finals: string[]) =>
    finals.forEach((v, j) => {
      const l = Math.floor(j / S);
      const s = spec.states[j % S]!;
      g.output(g.node('Identity', [v], {}, `${s.name}_out_${l}`), 'float32', ['batch', ...s.dims]);
    });

  if (mode === 'step') {
    const ids = g.input('ids', 'int32', ['batch', 1]);
    const states: string[] = [];
    for (let l = 0; l < L; l++)
      spec.states.forEach((s, j) => states.push(g.input(stateName(l, j), 'float32', ['batch', ...s.dims])));
    const position = spec.usesPosition ? g.input('position', 'int64', []) : '';
    const r = token(g, ids, states, position);
    g.output(g.node('Identity', [r.logits], {}, 'logits'), 'float32', ['batch', 1, V]);
    outputStates(r.states);
    if (spec.usesPosition)
      g.output(g.node('Add', [position, g.int64([1], true)], {}, 'position_out'), 'int64', []);
    return g.encode(`${spec.graph}_step`, '@nl/hope');
  }

  const ids = g.input('ids', 'int32', ['batch', 'seq']);
  const shape = g.node('Shape', [ids]);
  const batch = g.node('Slice', [shape, g.int64([0]), g.int64([1])]); // [1]
  const seq = g.node('Gather', [shape, g.int64([1], true)], { axis: 0 }); // int64 scalar
  const carried = [];
  for (let l = 0; l < L; l++)
    for (let j = 0; j < S; j++) {
      const s = spec.states[j]!;
      const init = g.float(`init_${stateName(l, j)}`, spec.initial(l, s.name), [1, ...s.dims]);
      const full = g.node('Expand', [init, g.node('Concat', [batch, g.int64(s.dims)], { axis: 0 })]);
      carried.push({ init: full, elem: 'float32' as const, dims: null });
    }
  const loop = g.loop(seq, carried, (b, t, cur) => {
    const idsT = b.node('Unsqueeze', [b.node('Gather', [ids, t], { axis: 1 }), b.int64([1])]); // [B, 1]
    const r = token(b, idsT, cur, t);
    return { carried: r.states, scans: [{ name: r.logits, elem: 'float32' }] };
  });
  // scan [T, B, 1, V] → [B, T, V]
  const stacked = g.node('Squeeze', [loop.scans[0]!, g.int64([2])]);
  g.output(g.node('Transpose', [stacked], { perm: [1, 0, 2] }, 'logits'), 'float32', ['batch', 'seq', V]);
  outputStates(loop.carried);
  if (spec.usesPosition) g.output(g.node('Identity', [seq], {}, 'position_out'), 'int64', []);
  return g.encode(`${spec.graph}_forward`, '@nl/hope');
}

/** x / √(Σx² + 1e-6) over the last dim (mixer-parts' l2norm). */
export function l2normNode(P: ExportParts, x: string): string {
  const { g } = P;
  const eps = g.float(g.fresh('l2_eps'), Float32Array.of(1e-6), []);
  const ss = g.node('ReduceSum', [g.node('Mul', [x, x]), g.int64([-1])], { keepdims: 1 });
  return g.node('Div', [x, g.node('Sqrt', [g.node('Add', [ss, eps])])]);
}

/**
 * QKVConv one step (prefix `p` = the block's `…qkv`): h [B, 1, D] and the conv cache
 * [B, K−1, 3D] → q, k, v [B, 1, D] (SiLU of the causal depthwise conv) and the next cache.
 */
export function qkvConvStep(
  P: ExportParts,
  p: string,
  h: string,
  conv: string,
  D: number,
  K: number,
): { q: string; k: string; v: string; conv: string } {
  const { g } = P;
  const z = P.linear(h, `${p}.proj.weight`, 3 * D, D); // [B, 1, 3D]
  const zin = g.node('Concat', [conv, z], { axis: 1 }); // [B, K, 3D]
  const next = g.node('Slice', [zin, g.int64([1]), g.int64([K]), g.int64([1])]); // [B, K−1, 3D]
  // causal depthwise conv at the last position: Σ_j w[c, j] · zin[j, c]
  const w = transposed(P.param(`${p}.conv.weight`), 3 * D, K);
  const wT = g.float(`${p}.conv.weight_T`, w, [K, 3 * D]);
  const cv = P.silu(g.node('ReduceSum', [g.node('Mul', [zin, wT]), g.int64([1])], { keepdims: 1 })); // [B, 1, 3D]
  const part = (i: number) => g.node('Slice', [cv, g.int64([i * D]), g.int64([(i + 1) * D]), g.int64([2])]);
  return { q: part(0), k: part(1), v: part(2), conv: next };
}

/**
 * GatedOut + residual + MLP residual of a mixer block `p`: x [B, 1, D], the memory read
 * o (any shape holding [B, H·Dh] in head-major order), h = norm1(x) → the block's output [B, 1, D].
 */
export function gatedOutAndMlp(
  P: ExportParts,
  p: string,
  x: string,
  o: string,
  h: string,
  c: { dim: number; heads: number; mlpHidden: number },
): string {
  const { g } = P;
  const { dim: D, heads: H } = c;
  const Dh = D / H;
  const heads = g.int64([0, 1, H, Dh]);
  const gate = g.node('Reshape', [P.silu(P.linear(h, `${p}.out.gate.weight`, D, D)), heads]);
  const normed = P.rmsNorm(g.node('Reshape', [o, heads]), `${p}.out.norm`, Dh); // [B, 1, H, Dh]
  const mixed = g.node('Reshape', [g.node('Mul', [normed, gate]), g.int64([0, 1, D])]);
  const x1 = g.node('Add', [x, P.linear(mixed, `${p}.out.out.weight`, D, D)]);
  return g.node('Add', [x1, P.swiglu(P.rmsNorm(x1, `${p}.norm2`, D), `${p}.mlp`, D, c.mlpHidden)]);
}
