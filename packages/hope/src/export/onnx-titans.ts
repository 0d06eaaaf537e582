/**
 * ONNX export of a TitansLM (float32, opset 17), both graphs over one step body
 * (./onnx-recurrent.ts): 'step' carries the memory's whole fast state as explicit inputs and
 * outputs — so the memory's test-time gradient descent runs inside the graph — and 'forward' is a
 * Loop over time of that step from the model's start state.
 *
 *   step:    ids int32 [batch, 1]; position int64 scalar (tokens since the start: 0, 1, …);
 *            for every block i: conv_i [batch, K−1, 3D], the memory MLP weights w1_i [batch, H, D, Dm],
 *            w2_i [batch, H, Dm, D], their momenta s1_i, s2_i (same shapes) and the chunk-start
 *            anchors a1_i, a2_i (same shapes; `initialTitansState` gives the start values)
 *            → logits [batch, 1, V], conv_out_i, w1_out_i … a2_out_i, position_out
 *   forward: ids int32 [batch, seq] → logits [batch, seq, V] (+ the final states, position_out = seq)
 *
 * Per token, as TitansMemory's reference loop (readAfterWrite, mini-batch chunks of C tokens):
 * at a position divisible by C the anchors a ← w (every inner gradient of a chunk is taken at the
 * chunk-start weights); p = a2 k, e = k + a1 σ(p) − v, g = (a1ᵀ e) ⊙ σ'(p);
 * s1 ← η s1 − θ e σ(p)ᵀ, s2 ← η s2 − θ g kᵀ; w ← (1 − α) w + s; o = q + w1 σ(w2 q) (σ = SiLU,
 * q, k ℓ2-normalised; θ, η, α = max · sigmoid(W h + b) per head).
 */
import type { Tensor } from '@nl/tensor';
import type { TitansLM } from '../models/titans-lm.js';
import { hostValues, type ExportParts } from './onnx-parts.js';
import {
  exportRecurrentOnnx,
  gatedOutAndMlp,
  l2normNode,
  qkvConvStep,
  type RecurrentExportOptions,
  type RecurrentSpec,
} from './onnx-recurrent.js';

/** Names of a Titans block's step state, in graph order (inputs `<name>_i`, outputs `<name>_out_i`). */
export const TITANS_STATE_NAMES = ['conv', 'w1', 'w2', 's1', 's2', 'a1', 'a2'] as const;
export type TitansStateName = (typeof TITANS_STATE_NAMES)[number];

/**
 * The step graph's start state of block `layer` (batch 1): conv zeros [1, K−1, 3D], w1, w2 = the
 * memory's meta-learned initial weights, momenta zeros, anchors = w1, w2; start `position` at 0.
 */
export function initialTitansState(model: TitansLM, layer: number): Record<TitansStateName, Float32Array> {
  const c = model.config;
  const sd = model.stateDict() as Record<string, Tensor>;
  const w1 = sd[`layers.${layer}.memory.w1`];
  const w2 = sd[`layers.${layer}.memory.w2`];
  if (!w1 || !w2) throw new Error(`initialTitansState: the model has no block ${layer}`);
  const [v1, v2] = [hostValues(w1), hostValues(w2)];
  const conv = new Float32Array((c.convSize - 1) * 3 * c.dim);
  return { conv, w1: v1, w2: v2, s1: new Float32Array(v1.length), s2: new Float32Array(v2.length), a1: v1, a2: v2 }; // prettier-ignore
}

function titansSpec(model: TitansLM, label: string): RecurrentSpec {
  const c = model.config;
  if (c.innerGradClip > 0)
    throw new Error(
      `${label}: the model clips its memory's inner gradient (innerGradClip ${c.innerGradClip}), which the Titans ONNX graph does not implement; export a model with innerGradClip 0`,
    );
  const { dim: D, heads: H, convSize: K, memoryHidden: M, chunkSize: C } = c;
  const Dh = D / H;
  const dims: Record<TitansStateName, number[]> = {
    conv: [K - 1, 3 * D],
    w1: [H, Dh, M],
    w2: [H, M, Dh],
    s1: [H, Dh, M],
    s2: [H, M, Dh],
    a1: [H, Dh, M],
    a2: [H, M, Dh],
  };
  return {
    label,
    graph: 'titans',
    states: TITANS_STATE_NAMES.map((name) => ({ name, dims: dims[name] })),
    initial: (layer, name) => initialTitansState(model, layer)[name as TitansStateName],
    usesPosition: true,
    block(P: ExportParts, l: number, x: string, states: string[], position: string) {
      const { g } = P;
      const [conv, w1, w2, s1, s2, a1In, a2In] = states as [string, string, string, string, string, string, string]; // prettier-ignore
      const p = `layers.${l}`;
      const h = P.rmsNorm(x, `${p}.norm1`, D);
      const qkv = qkvConvStep(P, `${p}.qkv`, h, conv, D, K);
      const col = (v: string) => g.node('Unsqueeze', [v, g.int64([-1])]); // [B, H, Dh] → [B, H, Dh, 1]
      const perHead = (v: string) => g.node('Reshape', [v, g.int64([0, H, Dh])]);
      const q = col(l2normNode(P, perHead(qkv.q))); // [B, H, D, 1]
      const k = col(l2normNode(P, perHead(qkv.k)));
      const v = col(perHead(qkv.v));
      const gate = (name: string, max: number) => {
        const pre = g.node('Add', [P.linear(h, `${p}.${name}Proj.weight`, H, D), P.raw(`${p}.${name}Proj.bias`, [H])]); // prettier-ignore
        const maxC = g.float(`${p}.${name}_max`, Float32Array.of(max), []);
        return g.node('Reshape', [g.node('Mul', [g.node('Sigmoid', [pre]), maxC]), g.int64([0, H, 1, 1])]);
      };
      const theta = gate('theta', c.thetaMax); // [B, H, 1, 1]
      const eta = gate('eta', c.etaMax);
      const keep = g.node('Sub', [g.float(`${p}.one`, Float32Array.of(1), []), gate('alpha', c.alphaMax)]);
      // chunk start: the anchors take the current weights
      const atStart = g.node('Equal', [g.node('Mod', [position, g.int64([C], true)]), g.int64([0], true)]);
      const a1 = g.node('Where', [atStart, w1, a1In]);
      const a2 = g.node('Where', [atStart, w2, a2In]);
      const T = (m: string) => g.node('Transpose', [m], { perm: [0, 1, 3, 2] });
      const pre = g.node('MatMul', [a2, k]); // [B, H, M, 1]
      const act = P.silu(pre);
      const e = g.node('Sub', [g.node('Add', [k, g.node('MatMul', [a1, act])]), v]); // [B, H, D, 1]
      const sg = g.node('Sigmoid', [pre]);
      const oneMinus = g.node('Sub', [g.float(`${p}.one_s`, Float32Array.of(1), []), sg]);
      const dsilu = g.node('Mul', [sg, g.node('Add', [g.node('Mul', [pre, oneMinus]), g.float(`${p}.one_d`, Float32Array.of(1), [])])]); // prettier-ignore
      const grad = g.node('Mul', [g.node('MatMul', [T(a1), e]), dsilu]); // [B, H, M, 1]
      const s1n = g.node('Sub', [g.node('Mul', [s1, eta]), g.node('Mul', [g.node('MatMul', [e, T(act)]), theta])]); // prettier-ignore
      const s2n = g.node('Sub', [g.node('Mul', [s2, eta]), g.node('Mul', [g.node('MatMul', [grad, T(k)]), theta])]); // prettier-ignore
      const w1n = g.node('Add', [g.node('Mul', [w1, keep]), s1n]); // [B, H, D, M]
      const w2n = g.node('Add', [g.node('Mul', [w2, keep]), s2n]); // [B, H, M, D]
      const o = g.node('Add', [q, g.node('MatMul', [w1n, P.silu(g.node('MatMul', [w2n, q]))])]); // [B, H, D, 1]
      return { x: gatedOutAndMlp(P, p, x, o, h, c), states: [qkv.conv, w1n, w2n, s1n, s2n, a1, a2] };
    },
  };
}

/** A TitansLM as an ONNX 'forward' or 'step' graph (see the file comment). */
export function exportTitansOnnx(model: TitansLM, opts: RecurrentExportOptions): Uint8Array {
  return exportRecurrentOnnx(model, opts, titansSpec(model, 'exportTitansOnnx'));
}
