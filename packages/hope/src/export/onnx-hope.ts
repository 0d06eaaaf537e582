/**
 * ONNX export of a HopeLM (float32, opset 17), test-time learning inside the graph:
 *
 *   'step':    ids int32 [batch, 1] + the whole fast state (onnx-hope-state.ts: position, conv
 *              caches, every self-modifying memory's weights / momenta / chunk-start snapshots, the
 *              CMS Δ) → logits [batch, 1, V] + the next state (`<name>_out`), exactly HopeDecoder.step
 *              on one token: the memories write, their snapshots refresh at chunk starts (a Where on
 *              position % C == 0), the CMS is static (no labels while decoding).
 *   'forward': ids int32 [batch, seq] → logits [batch, seq, V] = HopeLM.forward (from the
 *              meta-learned init, CMS Δ = 0): an ONNX Loop over the tokens whose body is the step's;
 *              the final state comes out as `<name>_out` too (all but the CMS Δ, which stays 0), so
 *              a prompt can be prefilled by 'forward' and continued by 'step'.
 *
 * The per-layer token body is onnx-hope-block.ts. Refused with a TypeError naming the cause:
 * float64 models, config fields or parameters the exporter does not know, adaptiveQ memories,
 * frozen memories, non-sequential CMS.
 */
import type { HopeLM } from '../models/hope.js';
import { HOPE_CONV } from '../models/hope-config.js';
import { OnnxGraph } from './onnx-graph.js';
import { hopeLayerToken, MEM_FIELDS, type LayerValues, type MemValues } from './onnx-hope-block.js';
import { checkHopeExportable, HOPE_MEMORY_NAMES, HopeOps, HopeWeights } from './onnx-hope-parts.js';
import { cmsNames, hopeStateNames, memDims, titansName } from './onnx-hope-state.js';

export interface HopeOnnxOptions {
  /** 'step' (one token, explicit fast state) or 'forward' (full sequence from a fresh state). */
  mode: 'step' | 'forward';
}

const LABEL = 'exportHopeOnnx';

/** Per distinct chunk size C: bool [1] = (pos % C == 0). */
function chunkStarts(g: OnnxGraph, model: HopeLM, pos: string): Map<number, string> {
  const zero = g.int64([0]);
  const out = new Map<number, string>();
  for (const C of new Set([model.config.chunkMem, model.config.chunkOther]))
    out.set(C, g.node('Equal', [g.node('Mod', [pos, g.int64([C])]), zero]));
  return out;
}

/** Logits [B, 1, V] of token ids [B, 1] from every layer's state; returns the next states. */
function tokenBody(
  o: HopeOps,
  model: HopeLM,
  ids: string,
  pos: string,
  layers: LayerValues[],
  cms: { d1: string; d2: string }[][] | null,
): { logits: string; next: LayerValues[] } {
  const { g, W } = o;
  const { dim: D, vocabSize: V } = model.config;
  let x = g.node('Gather', [W.raw('embed.weight', [V, D]), ids], { axis: 0 }); // [B, 1, D]
  const starts = chunkStarts(g, model, pos);
  const next = layers.map((st, l) => {
    const r = hopeLayerToken(o, model, l, x, st, starts, cms?.[l] ?? null);
    x = r.x;
    return r.next;
  });
  const logits = o.linear(o.rmsNorm(x, 'normF', D, model.normF.eps), 'head.weight', V, D);
  return { logits, next };
}

/** The layer states as a flat list (conv, then memories in name order, fields in MEM_FIELDS order). */
function flatten(layers: LayerValues[]): string[] {
  return layers.flatMap((s) => [s.conv, ...HOPE_MEMORY_NAMES.flatMap((m) => MEM_FIELDS.map((f) => s.mem[m]![f]))]); // prettier-ignore
}

/** Inverse of `flatten`. */
function unflatten(names: string[], L: number): LayerValues[] {
  const per = 1 + HOPE_MEMORY_NAMES.length * MEM_FIELDS.length;
  return Array.from({ length: L }, (_, l) => {
    const s = names.slice(l * per, (l + 1) * per);
    const mem: Record<string, MemValues> = {};
    HOPE_MEMORY_NAMES.forEach((m, j) => {
      const f = s.slice(1 + j * MEM_FIELDS.length);
      mem[m] = { w1: f[0]!, w2: f[1]!, s1: f[2]!, s2: f[3]!, a1: f[4]!, a2: f[5]! };
    });
    return { conv: s[0]!, mem };
  });
}

function stepGraph(g: OnnxGraph, o: HopeOps, model: HopeLM): void {
  const c = model.config;
  const ids = g.input('ids', 'int32', ['batch', 1]);
  const pos = g.input('position', 'int64', []);
  const layers: LayerValues[] = [];
  const cms: { d1: string; d2: string }[][] = [];
  model.blocks.forEach((b, l) => {
    const mem: Record<string, MemValues> = {};
    for (const m of HOPE_MEMORY_NAMES) {
      const v = {} as Record<(typeof MEM_FIELDS)[number], string>;
      for (const f of MEM_FIELDS) v[f] = g.input(titansName(l, m, f), 'float32', batched(memDims(model, f)));
      mem[m] = v;
      // the meta-learned init enters as the start state (hopeOnnxState), not as an initializer
      o.W.viaState(`layers.${l}.titans.${m}.w1`);
      o.W.viaState(`layers.${l}.titans.${m}.w2`);
    }
    layers.push({ conv: g.input(`conv_${l}`, 'float32', ['batch', HOPE_CONV - 1, c.dim]), mem });
    cms.push(
      b.cms.chunkSizes.map((_, i) => {
        const n = cmsNames(l, i);
        return {
          d1: g.input(n.d1, 'float32', [c.cmsHidden, c.dim]),
          d2: g.input(n.d2, 'float32', [c.dim, c.cmsHidden]),
        };
      }),
    );
  });
  const { logits, next } = tokenBody(o, model, ids, pos, layers, cms);
  g.output(g.node('Identity', [logits], {}, 'logits'), 'float32', ['batch', 1, c.vocabSize]);
  // outputs in hopeStateNames order, each `<input>_out`
  const values = new Map<string, string>();
  values.set('position', g.node('Add', [pos, g.int64([1], true)]));
  layerValues(values, next);
  cms.forEach((levels, l) => {
    levels.forEach((d, i) => {
      values.set(cmsNames(l, i).d1, d.d1);
      values.set(cmsNames(l, i).d2, d.d2);
    });
  });
  stateOutputs(g, model, values);
}

/** [1, ...dims] → ['batch', ...dims]. */
const batched = (dims: number[]): (number | string)[] => ['batch', ...dims.slice(1)];

/** Declares `<name>_out` for every state value given (in hopeStateNames order). */
function stateOutputs(g: OnnxGraph, model: HopeLM, values: Map<string, string>): void {
  const c = model.config;
  for (const name of hopeStateNames(model)) {
    const v = values.get(name);
    if (v === undefined) continue;
    const out = g.node('Identity', [v], {}, `${name}_out`);
    if (name === 'position') g.output(out, 'int64', []);
    else if (name.startsWith('conv_')) g.output(out, 'float32', ['batch', HOPE_CONV - 1, c.dim]);
    else if (name.startsWith('cms_'))
      g.output(out, 'float32', name.includes('_d1_') ? [c.cmsHidden, c.dim] : [c.dim, c.cmsHidden]);
    else g.output(out, 'float32', batched(memDims(model, name.slice(name.lastIndexOf('_') + 1))));
  }
}

/** Layer states by state name (conv and memories). */
function layerValues(values: Map<string, string>, layers: LayerValues[]): void {
  layers.forEach((s, l) => {
    values.set(`conv_${l}`, s.conv);
    for (const m of HOPE_MEMORY_NAMES) for (const f of MEM_FIELDS) values.set(titansName(l, m, f), s.mem[m]![f]); // prettier-ignore
  });
}

function forwardGraph(g: OnnxGraph, W: HopeWeights, model: HopeLM): void {
  const c = model.config;
  const ids = g.input('ids', 'int32', ['batch', 'seq']);
  const shape = g.node('Shape', [ids]);
  const batch = g.node('Slice', [shape, g.int64([0]), g.int64([1])]); // [B]
  const seq = g.node('Squeeze', [g.node('Slice', [shape, g.int64([1]), g.int64([2])]), g.int64([0])]); // T
  const zeroF = W.scalar('zero_f', 0);
  const filled = (value: string, dims: number[]) =>
    g.node('Expand', [value, g.node('Concat', [batch, g.int64(dims)], { axis: 0 })]);
  // the fresh state: conv zeros, w = a = the meta-learned init, s = 0 (batch B)
  const init = model.blocks.map((_, l): LayerValues => {
    const mem: Record<string, MemValues> = {};
    for (const m of HOPE_MEMORY_NAMES) {
      const d1 = memDims(model, 'w1').slice(1);
      const d2 = memDims(model, 'w2').slice(1);
      const w1 = filled(W.raw(`layers.${l}.titans.${m}.w1`, d1), d1);
      const w2 = filled(W.raw(`layers.${l}.titans.${m}.w2`, d2), d2);
      mem[m] = { w1, w2, s1: filled(zeroF, d1), s2: filled(zeroF, d2), a1: w1, a2: w2 };
    }
    return { conv: filled(zeroF, [HOPE_CONV - 1, c.dim]), mem };
  });
  const carried = [g.int64([0], true), ...flatten(init)];
  const loop = g.loop(
    seq,
    carried.map((init, j) => ({ init, elem: j === 0 ? 'int64' : 'float32', dims: null })),
    (b, i, cur) => {
      const tok = b.node('Unsqueeze', [b.node('Gather', [ids, i], { axis: 1 }), b.int64([1])]); // [B, 1]
      const pos = cur[0]!;
      const r = tokenBody(new HopeOps(b, W), model, tok, pos, unflatten(cur.slice(1), c.layers), null);
      return {
        carried: [b.node('Add', [pos, b.int64([1], true)]), ...flatten(r.next)],
        scans: [{ name: r.logits, elem: 'float32' }],
      };
    },
  );
  // scan [T, B, 1, V] → [B, T, V]
  const stacked = g.node('Squeeze', [loop.scans[0]!, g.int64([2])]);
  g.output(g.node('Transpose', [stacked], { perm: [1, 0, 2] }, 'logits'), 'float32', ['batch', 'seq', c.vocabSize]); // prettier-ignore
  // the final state (no CMS Δ: forward starts from Δ = 0 and keeps it): prefill by 'forward', go on by 'step'
  const values = new Map([['position', loop.carried[0]!]]);
  layerValues(values, unflatten(loop.carried.slice(1), c.layers));
  stateOutputs(g, model, values);
}

/** The ONNX model bytes of `model` in `opts.mode` (see the file header). */
export function exportHopeOnnx(model: HopeLM, opts: HopeOnnxOptions): Uint8Array {
  const mode = opts?.mode;
  if (mode !== 'forward' && mode !== 'step')
    throw new TypeError(`${LABEL}: mode must be 'forward' or 'step', got ${String(mode)}`);
  checkHopeExportable(model, LABEL);
  const g = new OnnxGraph();
  const W = new HopeWeights(g, model, LABEL);
  if (mode === 'step') stepGraph(g, new HopeOps(g, W), model);
  else forwardGraph(g, W, model);
  W.checkAllConsumed();
  return g.encode(`hope_${mode}`, '@nl/hope');
}
