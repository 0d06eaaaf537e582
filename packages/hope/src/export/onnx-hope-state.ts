/**
 * The HopeLM step graph's explicit state, by input name (outputs are the same names + '_out'):
 *
 *   position                   int64 []            tokens seen (the memories' chunk position)
 *   conv_<l>                   [B, 3, D]           last three conv inputs of layer l (zeros at start)
 *   titans_<l>_<m>_<f>         [B, H, Dh, hid] (w1, s1, a1) / [B, H, hid, Dh] (w2, s2, a2)
 *                              memory m ∈ alpha, eta, k, mem, v: fast weights w, momenta s,
 *                              chunk-start snapshot a (start: w = a = the meta-learned init, s = 0)
 *   cms_<l>_d1_<i>, cms_<l>_d2_<i>  [hid, D] / [D, hid]   CMS level i's Δ (passed through unchanged:
 *                              decoding has no labels, so the CMS is static, as in HopeDecoder)
 *
 * (B = batch; `hopeOnnxState` gives B = 1, as HopeDecoder.) `hopeOnnxState` turns a HopeFastState (e.g. `decoder.fastState`) or a fresh start into these
 * values, so a runtime can start from, and be compared with, any state of ours.
 */
import type { Tensor } from '@nl/tensor';
import { HOPE_CONV } from '../models/hope-config.js';
import type { HopeFastState, HopeLM } from '../models/hope.js';
import { MEM_FIELDS } from './onnx-hope-block.js';
import { HOPE_MEMORY_NAMES } from './onnx-hope-parts.js';
import { hostValues } from './onnx-parts.js';

/** One state value: float32 data, or int64 for `position`, with its dims. */
export interface HopeOnnxValue {
  data: Float32Array | BigInt64Array;
  dims: number[];
}

/** Input name of memory `m`'s field `f` in layer `l`. */
export const titansName = (l: number, m: string, f: string): string => `titans_${l}_${m}_${f}`;
/** Input names of CMS level `i`'s Δ in layer `l`. */
export const cmsNames = (l: number, i: number): { d1: string; d2: string } => ({
  d1: `cms_${l}_d1_${i}`,
  d2: `cms_${l}_d2_${i}`,
});

/** Dims of a memory field (w1-like [1, H, Dh, hid] or w2-like [1, H, hid, Dh]). */
export function memDims(model: HopeLM, field: string): number[] {
  const c = model.config;
  const Dh = c.dim / c.heads;
  return field.endsWith('1') ? [1, c.heads, Dh, c.memoryHidden] : [1, c.heads, c.memoryHidden, Dh];
}

/** Every state input name of the step graph, in a fixed order. */
export function hopeStateNames(model: HopeLM): string[] {
  const out = ['position'];
  model.blocks.forEach((b, l) => {
    out.push(`conv_${l}`);
    for (const m of HOPE_MEMORY_NAMES) for (const f of MEM_FIELDS) out.push(titansName(l, m, f));
    b.cms.chunkSizes.forEach((_, i) => out.push(cmsNames(l, i).d1, cmsNames(l, i).d2));
  });
  return out;
}

/**
 * The step graph's state values for `state` (a HopeFastState of batch 1), or for a fresh start
 * (the meta-learned init) when it is omitted. Keyed by input name.
 */
export function hopeOnnxState(model: HopeLM, state?: HopeFastState): Record<string, HopeOnnxValue> {
  const c = model.config;
  const D = c.dim;
  const sd = model.stateDict() as Record<string, Tensor>;
  const out: Record<string, HopeOnnxValue> = {};
  const layers = state?.layers;
  if (layers !== undefined && layers.length !== c.layers)
    throw new Error(`hopeOnnxState: the state has ${layers.length} layers, the model ${c.layers}`);
  out.position = { data: BigInt64Array.of(BigInt(layers?.[0]?.titans.tokens ?? 0)), dims: [] };
  model.blocks.forEach((b, l) => {
    const ls = layers?.[l];
    const conv = ls?.conv ?? null;
    if (conv !== null && conv.shape[0] !== 1)
      throw new Error(`hopeOnnxState: batch-1 states only, layer ${l}'s conv cache is [${conv.shape.join(', ')}]`); // prettier-ignore
    out[`conv_${l}`] = {
      data: conv === null ? new Float32Array((HOPE_CONV - 1) * D) : hostValues(conv),
      dims: [1, HOPE_CONV - 1, D],
    };
    const mems = ls?.titans.state ?? null;
    for (const m of HOPE_MEMORY_NAMES) {
      for (const f of MEM_FIELDS) {
        const dims = memDims(model, f);
        let data: Float32Array;
        if (mems !== null) data = hostValues(mems[m]![f]);
        else if (f.startsWith('s')) data = new Float32Array(dims.reduce((a, d) => a * d, 1));
        else data = hostValues(sd[`layers.${l}.titans.${m}.w${f[1]}`]!);
        if (data.length !== dims.reduce((a, d) => a * d, 1))
          throw new Error(`hopeOnnxState: ${titansName(l, m, f)} has ${data.length} values, expected [${dims.join(', ')}]`); // prettier-ignore
        out[titansName(l, m, f)] = { data, dims };
      }
    }
    const F = c.cmsHidden;
    b.cms.chunkSizes.forEach((_, i) => {
      const lv = ls?.cms.levels[i];
      const n = cmsNames(l, i);
      out[n.d1] = { data: lv ? hostValues(lv.d1) : new Float32Array(F * D), dims: [F, D] };
      out[n.d2] = { data: lv ? hostValues(lv.d2) : new Float32Array(D * F), dims: [D, F] };
    });
  });
  return out;
}
