/**
 * ONNX export of a DeltaNetLM (float32, opset 17), both graphs over one step body
 * (./onnx-recurrent.ts): 'step' with the recurrent state explicit — so the in-context learning,
 * the gated delta rule's write, happens inside the graph — and 'forward', a Loop over time of that
 * step (the model's chunked gated delta rule equals the token recurrence).
 *
 *   step:    ids int32 [batch, 1]; for every block i: conv_i [batch, K−1, 3D] (the last K−1
 *            projected rows, zeros at the start) and state_i [batch, H, Dv, Dk] (the memory M,
 *            the block's m0 at the start: `initialDeltaNetState`) → logits [batch, 1, V],
 *            conv_out_i, state_out_i (feed them back as the next inputs)
 *   forward: ids int32 [batch, seq] → logits [batch, seq, V] (+ the final conv_out_i, state_out_i)
 *
 * Per block, as DeltaNetBlock: h = RMSNorm(x); q, k, v = SiLU(causal conv of W_qkv h); q, k ℓ2-
 * normalised (q / √Dh); β = σ(W_β h), α = exp(−e^{A_log}·softplus(W_α h + dt_bias));
 * M ← α (M − β (M k) kᵀ) + β v kᵀ; o = M q; x ← x + W_o(RMSNorm_head(o) ⊙ SiLU(W_g h)); x ← x + SwiGLU(RMSNorm x).
 */
import type { Tensor } from '@nl/tensor';
import type { DeltaNetLM } from '../models/deltanet.js';
import { hostValues, type ExportParts } from './onnx-parts.js';
import {
  exportRecurrentOnnx,
  gatedOutAndMlp,
  l2normNode,
  qkvConvStep,
  type RecurrentExportOptions,
  type RecurrentSpec,
} from './onnx-recurrent.js';

/** The step graph's start state for block `layer`: conv zeros [1, K−1, 3D] and M = m0 [1, H, Dv, Dk]. */
export function initialDeltaNetState(
  model: DeltaNetLM,
  layer: number,
): { conv: Float32Array; state: Float32Array } {
  const c = model.config;
  const m0 = (model.stateDict() as Record<string, Tensor>)[`layers.${layer}.memory.m0`];
  if (!m0) throw new Error(`initialDeltaNetState: the model has no block ${layer}`);
  return { conv: new Float32Array((c.convSize - 1) * 3 * c.dim), state: hostValues(m0) };
}

function deltaNetSpec(model: DeltaNetLM, label: string): RecurrentSpec {
  const c = model.config;
  const { dim: D, heads: H, convSize: K } = c;
  const Dh = D / H;
  return {
    label,
    graph: 'deltanet',
    states: [
      { name: 'conv', dims: [K - 1, 3 * D] },
      { name: 'state', dims: [H, Dh, Dh] },
    ],
    initial: (layer, name) => initialDeltaNetState(model, layer)[name as 'conv' | 'state'],
    usesPosition: false,
    block(P: ExportParts, l: number, x: string, [conv, state]: string[]) {
      const { g } = P;
      const p = `layers.${l}`;
      const h = P.rmsNorm(x, `${p}.norm1`, D);
      const qkv = qkvConvStep(P, `${p}.qkv`, h, conv!, D, K);
      const qScale = g.float(`${p}.q_scale`, Float32Array.of(1 / Math.sqrt(Dh)), []);
      const rows = g.int64([0, H, 1, Dh]);
      const q = g.node('Mul', [l2normNode(P, g.node('Reshape', [qkv.q, rows])), qScale]); // [B, H, 1, Dk]
      const kRow = l2normNode(P, g.node('Reshape', [qkv.k, rows])); // [B, H, 1, Dk]
      const vCol = g.node('Reshape', [qkv.v, g.int64([0, H, Dh, 1])]); // [B, H, Dv, 1]
      const perHead = g.int64([0, H, 1, 1]);
      const beta = g.node('Reshape', [g.node('Sigmoid', [P.linear(h, `${p}.betaProj.weight`, H, D)]), perHead]); // prettier-ignore
      const pre = g.node('Add', [P.linear(h, `${p}.alphaProj.weight`, H, D), P.raw(`${p}.dtBias`, [H])]);
      const decay = g.node('Mul', [g.node('Softplus', [pre]), g.node('Exp', [P.raw(`${p}.aLog`, [H])])]);
      const alpha = g.node('Reshape', [g.node('Exp', [g.node('Neg', [decay])]), perHead]); // [B, H, 1, 1]
      const kCol = g.node('Transpose', [kRow], { perm: [0, 1, 3, 2] }); // [B, H, Dk, 1]
      const mk = g.node('MatMul', [state!, kCol]); // M k: [B, H, Dv, 1]
      const erased = g.node('Sub', [state!, g.node('Mul', [g.node('MatMul', [mk, kRow]), beta])]);
      const written = g.node('Mul', [g.node('MatMul', [vCol, kRow]), beta]); // β v kᵀ
      const next = g.node('Add', [g.node('Mul', [erased, alpha]), written]); // [B, H, Dv, Dk]
      const o = g.node('MatMul', [next, g.node('Transpose', [q], { perm: [0, 1, 3, 2] })]); // [B, H, Dv, 1]
      return { x: gatedOutAndMlp(P, p, x, o, h, c), states: [qkv.conv, next] };
    },
  };
}

/** A DeltaNetLM as an ONNX 'forward' or 'step' graph (see the file comment). */
export function exportDeltaNetOnnx(model: DeltaNetLM, opts: RecurrentExportOptions): Uint8Array {
  return exportRecurrentOnnx(model, opts, deltaNetSpec(model, 'exportDeltaNetOnnx'));
}

/** The 'step' graph: `exportDeltaNetOnnx(model, { mode: 'step' })`. */
export function exportDeltaNetStepOnnx(model: DeltaNetLM): Uint8Array {
  return exportRecurrentOnnx(model, { mode: 'step' }, deltaNetSpec(model, 'exportDeltaNetStepOnnx'));
}
