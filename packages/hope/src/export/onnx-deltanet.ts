/**
 * ONNX export of a DeltaNetLM's one-token decode step (float32, opset 17): the recurrent state is
 * explicit, so the in-context learning — the gated delta rule's write — happens inside the graph.
 *
 *   inputs:  ids int32 [1, 1]; for every block i: conv_i [1, K−1, 3D] (the last K−1 projected rows,
 *            zeros at the start) and state_i [1, H, Dv, Dk] (the memory M, `initialDeltaNetState`
 *            at the start: the block's m0)
 *   outputs: logits [1, 1, V]; conv_out_i, state_out_i (feed them back as the next inputs)
 *
 * Per block, as DeltaNetBlock: h = RMSNorm(x); q, k, v = SiLU(causal conv of W_qkv h); q, k ℓ2-
 * normalised (q / √Dh); β = σ(W_β h), α = exp(−e^{A_log}·softplus(W_α h + dt_bias));
 * M ← α (M − β (M k) kᵀ) + β v kᵀ; o = M q; x ← x + W_o(RMSNorm_head(o) ⊙ SiLU(W_g h)); x ← x + SwiGLU(RMSNorm x).
 */
import type { Tensor } from '@nl/tensor';
import type { DeltaNetLM } from '../models/deltanet.js';
import { OnnxGraph } from './onnx-graph.js';
import { ExportParts, hostValues, transposed } from './onnx-parts.js';

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

export function exportDeltaNetStepOnnx(model: DeltaNetLM): Uint8Array {
  const c = model.config;
  if (c.dtype !== 'float32')
    throw new TypeError(`exportDeltaNetStepOnnx: float32 models only, got ${c.dtype}`);
  const { dim: D, heads: H, vocabSize: V, layers: L, normEps: eps, mlpHidden: F, convSize: K } = c;
  const Dh = D / H;
  const g = new OnnxGraph();
  const P = new ExportParts(g, model.stateDict() as Record<string, Tensor>, 'exportDeltaNetStepOnnx', eps);
  const scalar = (name: string, v: number) => g.float(name, Float32Array.of(v), []);
  const l2eps = scalar('l2_eps', 1e-6);
  const qScale = scalar('q_scale', 1 / Math.sqrt(Dh));
  /** x / √(Σx² + 1e-6) over the last dim. */
  const l2norm = (x: string) =>
    g.node('Div', [x, g.node('Sqrt', [g.node('Add', [g.node('ReduceSum', [g.node('Mul', [x, x]), g.int64([-1])], { keepdims: 1 }), l2eps])])]); // prettier-ignore

  const ids = g.input('ids', 'int32', [1, 1]);
  let x = g.node('Gather', [P.raw('embed.weight', [V, D]), ids], { axis: 0 }); // [1, 1, D]
  for (let l = 0; l < L; l++) {
    const p = `layers.${l}`;
    const conv = g.input(`conv_${l}`, 'float32', [1, K - 1, 3 * D]);
    const state = g.input(`state_${l}`, 'float32', [1, H, Dh, Dh]);
    const h = P.rmsNorm(x, `${p}.norm1`, D);
    const z = P.linear(h, `${p}.qkv.proj.weight`, 3 * D, D); // [1, 1, 3D]
    const zin = g.node('Concat', [conv, z], { axis: 1 }); // [1, K, 3D]
    g.output(g.node('Slice', [zin, g.int64([1]), g.int64([K]), g.int64([1])], {}, `conv_out_${l}`), 'float32', [1, K - 1, 3 * D]); // prettier-ignore
    // causal depthwise conv at the last position: Σ_j w[c, j] · zin[j, c]
    const wT = g.float(`${p}.qkv.conv.weight_T`, transposed(P.param(`${p}.qkv.conv.weight`), 3 * D, K), [
      K,
      3 * D,
    ]);
    const cv = P.silu(g.node('ReduceSum', [g.node('Mul', [zin, wT]), g.int64([1])], { keepdims: 1 })); // [1, 1, 3D]
    const part = (i: number, shape: number[]) =>
      g.node('Reshape', [g.node('Slice', [cv, g.int64([i * D]), g.int64([(i + 1) * D]), g.int64([2])]), g.int64(shape)]); // prettier-ignore
    const q = g.node('Mul', [l2norm(part(0, [1, H, 1, Dh])), qScale]); // rows [1, H, 1, Dk]
    const kRow = l2norm(part(1, [1, H, 1, Dh])); // [1, H, 1, Dk]
    const vCol = part(2, [1, H, Dh, 1]); // [1, H, Dv, 1]
    const beta = g.node('Reshape', [
      g.node('Sigmoid', [P.linear(h, `${p}.betaProj.weight`, H, D)]),
      g.int64([1, H, 1, 1]),
    ]);
    const pre = g.node('Add', [P.linear(h, `${p}.alphaProj.weight`, H, D), P.raw(`${p}.dtBias`, [H])]);
    const decay = g.node('Mul', [g.node('Softplus', [pre]), g.node('Exp', [P.raw(`${p}.aLog`, [H])])]);
    const alpha = g.node('Reshape', [g.node('Exp', [g.node('Neg', [decay])]), g.int64([1, H, 1, 1])]);
    const kCol = g.node('Transpose', [kRow], { perm: [0, 1, 3, 2] }); // [1, H, Dk, 1]
    const mk = g.node('MatMul', [state, kCol]); // M k: [1, H, Dv, 1]
    const erased = g.node('Sub', [state, g.node('Mul', [g.node('MatMul', [mk, kRow]), beta])]);
    const written = g.node('Mul', [g.node('MatMul', [vCol, kRow]), beta]); // β v kᵀ
    const next = g.node('Add', [g.node('Mul', [erased, alpha]), written], {}, `state_out_${l}`);
    g.output(next, 'float32', [1, H, Dh, Dh]);
    const o = g.node('Reshape', [g.node('MatMul', [next, g.node('Transpose', [q], { perm: [0, 1, 3, 2] })]), g.int64([1, 1, H, Dh])]); // prettier-ignore
    const gate = g.node('Reshape', [
      P.silu(P.linear(h, `${p}.out.gate.weight`, D, D)),
      g.int64([1, 1, H, Dh]),
    ]);
    const mixed = g.node('Reshape', [
      g.node('Mul', [P.rmsNorm(o, `${p}.out.norm`, Dh), gate]),
      g.int64([1, 1, D]),
    ]);
    const x1 = g.node('Add', [x, P.linear(mixed, `${p}.out.out.weight`, D, D)]);
    x = g.node('Add', [x1, P.swiglu(P.rmsNorm(x1, `${p}.norm2`, D), `${p}.mlp`, D, F)]);
  }
  const logits = g.node('Identity', [P.linear(P.rmsNorm(x, 'normF', D), 'head.weight', V, D)], {}, 'logits');
  g.output(logits, 'float32', [1, 1, V]);
  return g.encode('deltanet_step', '@nl/hope');
}
