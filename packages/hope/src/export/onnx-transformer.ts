/**
 * ONNX export of a TransformerLM (float32), run by onnxruntime or any ONNX runtime (opset 17):
 *
 *   'forward': ids int32 [batch, seq] → logits [batch, seq, V] — the teacher-forced forward.
 *   'step':    ids int32 [1, 1], past_key_i / past_value_i [1, H, past, D/H] for every block i →
 *              logits [1, 1, V], present_key_i / present_value_i [1, H, past + 1, D/H] — one decode
 *              step with the KV cache as explicit state (RoPE already applied to cached keys, as
 *              in the model's own decoder); start from past = 0 (empty tensors).
 *
 * The graph is the model's maths op for op: embedding Gather, RMSNorm as x / √(mean(x²) + ε) · w,
 * bias-free projections as MatMul with the transposed weights, rotate-half RoPE from cos / sin
 * tables of `maxLen` positions (Slice at the current positions), causal softmax attention with
 * scale 1/√(D/H) (mask from Range / Greater / Where), SwiGLU as down(silu(gate h) ⊙ up h).
 */
import type { Tensor } from '@nl/tensor';
import type { TransformerLM } from '../models/transformer.js';
import { OnnxGraph } from './onnx-graph.js';
import { ExportParts } from './onnx-parts.js';

export interface OnnxExportOptions {
  /** 'forward' (full sequence) or 'step' (one token with the KV cache). */
  mode: 'forward' | 'step';
  /** Positions the RoPE tables cover (default 4096): longest sequence / cache + 1 the graph accepts. */
  maxLen?: number;
}

export function exportTransformerOnnx(model: TransformerLM, opts: OnnxExportOptions): Uint8Array {
  const c = model.config;
  if (c.dtype !== 'float32')
    throw new TypeError(`exportTransformerOnnx: float32 models only, got ${c.dtype}`);
  const { mode } = opts;
  if (mode !== 'forward' && mode !== 'step')
    throw new TypeError(`exportTransformerOnnx: mode must be 'forward' or 'step', got ${String(mode)}`);
  const maxLen = opts.maxLen ?? 4096;
  if (!Number.isInteger(maxLen) || maxLen < 1)
    throw new RangeError(`exportTransformerOnnx: maxLen must be a positive integer, got ${maxLen}`);
  const { dim: D, heads: H, vocabSize: V, layers: L, normEps: eps, mlpHidden: F } = c;
  const Dh = D / H;
  const half = Dh / 2;
  const g = new OnnxGraph();
  const P = new ExportParts(g, model.stateDict() as Record<string, Tensor>, 'exportTransformerOnnx', eps);

  // RoPE tables [maxLen, Dh/2], angles in float64 as ropeTables computes them
  const cos = new Float32Array(maxLen * half);
  const sin = new Float32Array(maxLen * half);
  for (let p = 0; p < maxLen; p++)
    for (let i = 0; i < half; i++) {
      const a = p * Math.pow(c.ropeBase, (-2 * i) / Dh);
      cos[p * half + i] = Math.cos(a);
      sin[p * half + i] = Math.sin(a);
    }
  g.float('rope_cos', cos, [maxLen, half]);
  g.float('rope_sin', sin, [maxLen, half]);

  const ids = g.input('ids', 'int32', mode === 'forward' ? ['batch', 'seq'] : [1, 1]);
  const pastNames: [string, string][] = [];
  if (mode === 'step')
    for (let l = 0; l < L; l++)
      pastNames.push([
        g.input(`past_key_${l}`, 'float32', [1, H, 'past', Dh]),
        g.input(`past_value_${l}`, 'float32', [1, H, 'past', Dh]),
      ]);

  const seqLen = g.node('Slice', [g.node('Shape', [ids]), g.int64([1]), g.int64([2])]); // [T]
  const start = mode === 'step' ? g.node('Slice', [g.node('Shape', [pastNames[0]![0]]), g.int64([2]), g.int64([3])]) : g.int64([0]); // prettier-ignore
  const end = g.node('Add', [start, seqLen]); // [start + T]
  const cosT = g.node('Slice', [g.node('Identity', ['rope_cos']), start, end, g.int64([0])]); // [T, Dh/2]
  const sinT = g.node('Slice', [g.node('Identity', ['rope_sin']), start, end, g.int64([0])]);
  const scale = g.float('attn_scale', Float32Array.of(1 / Math.sqrt(Dh)), []);

  // causal mask [T, S] (forward only; a single step query sees every cached key): key j > query i → −∞
  let mask: string | null = null;
  if (mode === 'forward') {
    const tScalar = g.node('Squeeze', [seqLen, g.int64([0])]);
    const zero = g.int64([0], true);
    const one = g.int64([1], true);
    const rows = g.node('Unsqueeze', [g.node('Range', [zero, tScalar, one]), g.int64([1])]); // [T, 1]
    const cols = g.node('Unsqueeze', [g.node('Range', [zero, tScalar, one]), g.int64([0])]); // [1, T]
    const ninf = g.float('neg_inf', Float32Array.of(-Infinity), []);
    const zf = g.float('zero_f', Float32Array.of(0), []);
    mask = g.node('Where', [g.node('Greater', [cols, rows]), ninf, zf]); // [T, T]
  }

  const heads = (x: string): string =>
    g.node('Transpose', [g.node('Reshape', [x, g.int64([0, 0, H, Dh])])], { perm: [0, 2, 1, 3] }); // [B, H, T, Dh]
  const rope = (x: string): string => {
    const x1 = g.node('Slice', [x, g.int64([0]), g.int64([half]), g.int64([3])]);
    const x2 = g.node('Slice', [x, g.int64([half]), g.int64([Dh]), g.int64([3])]);
    const y1 = g.node('Sub', [g.node('Mul', [x1, cosT]), g.node('Mul', [x2, sinT])]);
    const y2 = g.node('Add', [g.node('Mul', [x2, cosT]), g.node('Mul', [x1, sinT])]);
    return g.node('Concat', [y1, y2], { axis: 3 });
  };

  let x = g.node('Gather', [P.raw('embed.weight', [V, D]), ids], { axis: 0 }); // [B, T, D]
  for (let l = 0; l < L; l++) {
    const p = `layers.${l}`;
    const h = P.rmsNorm(x, `${p}.norm1`, D);
    const q = rope(heads(P.linear(h, `${p}.q.weight`, D, D)));
    let k = rope(heads(P.linear(h, `${p}.k.weight`, D, D)));
    let v = heads(P.linear(h, `${p}.v.weight`, D, D));
    if (mode === 'step') {
      k = g.node('Concat', [pastNames[l]![0], k], { axis: 2 }, `present_key_${l}`);
      v = g.node('Concat', [pastNames[l]![1], v], { axis: 2 }, `present_value_${l}`);
      g.output(k, 'float32', [1, H, 'present', Dh]);
      g.output(v, 'float32', [1, H, 'present', Dh]);
    }
    let scores = g.node('Mul', [
      g.node('MatMul', [q, g.node('Transpose', [k], { perm: [0, 1, 3, 2] })]),
      scale,
    ]);
    if (mask) scores = g.node('Add', [scores, mask]);
    const a = g.node('MatMul', [g.node('Softmax', [scores], { axis: -1 }), v]); // [B, H, T, Dh]
    const merged = g.node('Reshape', [g.node('Transpose', [a], { perm: [0, 2, 1, 3] }), g.int64([0, 0, D])]);
    const x1 = g.node('Add', [x, P.linear(merged, `${p}.o.weight`, D, D)]);
    x = g.node('Add', [x1, P.swiglu(P.rmsNorm(x1, `${p}.norm2`, D), `${p}.mlp`, D, F)]);
  }
  const logits = g.node('Identity', [P.linear(P.rmsNorm(x, 'normF', D), 'head.weight', V, D)], {}, 'logits');
  g.output(logits, 'float32', mode === 'forward' ? ['batch', 'seq', V] : [1, 1, V]);
  return g.encode(`transformer_${mode}`, '@nl/hope');
}
