/**
 * ContinuumMemory `impl: 'fused'`: the native CMS kernels (native/src/cpu/cms.h) registered through
 * `defineOp` as the 'cpu' kernels of two ops (they also run on 'sim'; the 'cuda' kernels, composed
 * of device tensor ops with the same algorithm, are in cms-fused-cuda.ts):
 *
 *   memory.cms         inputs  x [B, T, D], w1_ℓ, d1_ℓ [Dh, D], w2_ℓ, d2_ℓ [D, Dh] (ℓ < L, grouped by
 *                              kind), agg [L] (independent), probe [L, B, T, D] (optional zeros)
 *                      outputs y [B, T, D], hs, ss [L, B, T, Dh] (pre-activations h and sigmoid(h)),
 *                              w1e [L, Dh, D], w2e [L, D, Dh] (θ0 + Δ) and, for
 *                              the chain variants, xs [L, B, T, D] (level inputs)
 *                      backward: x, θ0 (w1_ℓ, w2_ℓ: the gradient of θ0 + Δ; Δ gets none, A11), agg,
 *                              probe (= the error signals δ_ℓ = ∂L/∂(level ℓ output))
 *   memory.cmsObserve  inputs  x (independent) or xs, hs, ss, w2e, err [L, B, T, D], d1_ℓ, d2_ℓ, g1_ℓ, g2_ℓ
 *                      outputs the updated d1_ℓ, d2_ℓ, g1_ℓ, g2_ℓ (no gradient)
 *
 * The schedule (chunk sizes, tokens pending, rates) travels as host integers in the attributes,
 * so a call reads no tensor value on the host.
 */
import { defineOp, keep, type Tensor } from '@nl/tensor';
import { elementsOf, emptyTensor } from '@nl/tensor/internal';
import { native } from '@nl/native';
import { allocLike } from '../kernels/alloc.js';
import type { FloatArray } from '../kernels/shape.js';
import './cms-fused-cuda.js';

/** Attributes of `memory.cms`. */
export interface CmsOpAttrs extends Record<string, unknown> {
  levels: number;
  independent: boolean;
  probe: boolean;
  /** Where the CPU backward leaves its weight gradients for `observeGrads` (see `CmsGradSink`). */
  sink?: CmsGradSink;
}

/**
 * The stacked weight gradients dW1 [L, Dh, D], dW2 [L, D, Dh] of a forward's first backward: with
 * the probe gradients as error signals they are exactly the G increments of the whole call, so
 * `memory.cmsObserve` adds them instead of recomputing three GEMMs per level (for each level with no
 * fire inside the call). Kept only after exactly one backward.
 */
export interface CmsGradSink {
  backwards: number;
  dw1: Tensor | null;
  dw2: Tensor | null;
}

/** Frees a sink's tensors (idempotent). */
export function releaseSink(sink: CmsGradSink | undefined): void {
  if (sink === undefined) return;
  sink.dw1?.dispose();
  sink.dw2?.dispose();
  sink.dw1 = sink.dw2 = null;
}

/** Attributes of `memory.cmsObserve`. */
export interface CmsObserveAttrs extends Record<string, unknown> {
  /** The inputs end with the backward's dW1, dW2 (CmsGradSink). */
  inc?: boolean;
  independent: boolean;
  nested: boolean;
  chunkSizes: readonly number[];
  pending: readonly number[];
  lrs: readonly number[];
}

/** Opens a tensor inside the kernel (row-major elements, no transfer). */
const arr = (t: Tensor): FloatArray => elementsOf(t) as FloatArray;

/**
 * A new output tensor like `like` (dtype, device) from the backend's buffer pool, not zeroed (the
 * kernels write every element): fresh typed arrays per call cost garbage collections.
 */
const output = (like: Tensor, shape: number[]): Tensor => emptyTensor(shape, like.dtype, like.device, false);

/** Reused host scratch per (slot, dtype): the stacked weight gradients before they are split per level. */
const scratchArrays = new Map<string, FloatArray>();
function scratch(like: FloatArray, n: number, slot: string): FloatArray {
  const key = `${slot}:${like instanceof Float32Array ? 32 : 64}`;
  let a = scratchArrays.get(key);
  if (a === undefined || a.length < n) {
    a = allocLike(like, n);
    scratchArrays.set(key, a);
  }
  return a.subarray(0, n);
}

/** Sizes of a call: x [B, T, D], w1_0 [Dh, D]. */
function dimsOf(x: Tensor, w1: Tensor, levels: number, independent: boolean) {
  const [batch, seqLen, d] = x.shape as [number, number, number];
  return { batch, seqLen, d, hidden: w1.shape[0]!, levels, independent };
}

/** Per-level fields `name_ℓ` of a struct. */
function perLevel(out: Record<string, unknown>, name: string, ts: readonly Tensor[]): void {
  ts.forEach((t, l) => (out[`${name}_${l}`] = arr(t)));
}

/** The op inputs split by role. */
function split(ins: readonly Tensor[], a: CmsOpAttrs) {
  const L = a.levels;
  const at = (k: number) => ins.slice(1 + k * L, 1 + (k + 1) * L);
  let i = 1 + 4 * L;
  const agg = a.independent ? ins[i++]! : null;
  const probe = a.probe ? ins[i++]! : null;
  return { x: ins[0]!, w1: at(0), d1: at(1), w2: at(2), d2: at(3), agg, probe };
}

const cmsOp = defineOp<CmsOpAttrs>({
  name: 'memory.cms',
  forward: {
    cpu(_ctx, inputs, a) {
      const s = split(inputs, a);
      const dims = dimsOf(s.x, s.w1[0]!, a.levels, a.independent);
      const { batch: B, seqLen: T, d: D, hidden: Dh, levels: L } = dims;
      const res = [
        output(s.x, [B, T, D]), // y
        output(s.x, [L, B, T, Dh]), // hs
        output(s.x, [L, B, T, Dh]), // ss
        output(s.x, [L, Dh, D]), // w1e
        output(s.x, [L, D, Dh]), // w2e
      ];
      if (!a.independent) res.push(output(s.x, [L, B, T, D])); // xs
      const [y, hs, ss, w1e, w2e, xs] = res.map(arr);
      const arrays: Record<string, FloatArray | null> = { x: arr(s.x), y, hs, ss, w1e, w2e, xs: xs ?? null };
      perLevel(arrays, 'w1', s.w1);
      perLevel(arrays, 'd1', s.d1);
      perLevel(arrays, 'w2', s.w2);
      perLevel(arrays, 'd2', s.d2);
      if (s.agg) arrays.agg = arr(s.agg);
      if (s.probe) arrays.probe = arr(s.probe);
      native.cmsForward(arrays, dims);
      return res;
    },
  },
  backward: {
    cpu(ctx, grads) {
      const a = ctx.attrs;
      const s = split(ctx.inputs, a);
      const dims = dimsOf(s.x, s.w1[0]!, a.levels, a.independent);
      const { batch: B, seqLen: T, d: D, hidden: Dh, levels: L } = dims;
      const [, hs, ss, w1e, w2e, xs] = ctx.outputs;
      const x = arr(s.x);
      const nw = Dh * D;
      const dx = output(s.x, [B, T, D]);
      const dagg = a.independent ? output(s.x, [L]) : null;
      const dprobe = s.probe ? output(s.x, [L, B, T, D]) : null;
      const g = {
        dx: arr(dx),
        dw1: scratch(x, L * nw, 'dw1'),
        dw2: scratch(x, L * nw, 'dw2'),
        dagg: dagg ? arr(dagg) : null,
        dprobe: dprobe ? arr(dprobe) : null,
      };
      native.cmsBackward(
        {
          x,
          xs: xs ? arr(xs) : null,
          hs: arr(hs!),
          ss: arr(ss!),
          w1e: arr(w1e!),
          w2e: arr(w2e!),
          agg: s.agg ? arr(s.agg) : null,
          probe: s.probe ? arr(s.probe) : null,
          dy: grads[0] ? arr(grads[0]) : allocLike(x, B * T * D),
          ...g,
        },
        dims,
      );
      const sink = a.sink;
      if (sink && s.probe && ++sink.backwards === 1) {
        // kept past the backward's scope; observeGrads, the next forward or a second backward frees them
        sink.dw1 = keep(output(s.x, [L, Dh, D]));
        sink.dw2 = keep(output(s.x, [L, D, Dh]));
        arr(sink.dw1).set(g.dw1);
        arr(sink.dw2).set(g.dw2);
      } else releaseSink(sink); // a second backward: the probes' gradients are sums
      const level = (m: FloatArray, l: number, shape: number[]) => {
        const t = output(s.x, shape);
        arr(t).set(m.subarray(l * nw, (l + 1) * nw));
        return t;
      };
      const need = ctx.needsInputGrad;
      const out: (Tensor | null)[] = [dx];
      for (let l = 0; l < L; l++) out.push(need[1 + l] ? level(g.dw1, l, [Dh, D]) : null);
      for (let l = 0; l < L; l++) out.push(null); // Δ1: no gradient (first order, A11)
      for (let l = 0; l < L; l++) out.push(need[1 + 2 * L + l] ? level(g.dw2, l, [D, Dh]) : null);
      for (let l = 0; l < L; l++) out.push(null); // Δ2
      if (dagg) out.push(dagg);
      if (dprobe) out.push(dprobe);
      return out;
    },
  },
});

const observeOp = defineOp<CmsObserveAttrs>({
  name: 'memory.cmsObserve',
  forward: {
    cpu(_ctx, inputs, a) {
      const L = a.chunkSizes.length;
      const [xin, hs, ss, w2e, err] = inputs as Tensor[];
      const st = inputs.slice(5, 5 + 4 * L);
      const [, B, T, Dh] = hs!.shape as [number, number, number, number];
      const D = err!.shape[3]!;
      const dims: Record<string, number | boolean> = {
        batch: B,
        seqLen: T,
        d: D,
        hidden: Dh,
        levels: L,
        independent: a.independent,
        nested: a.nested,
      };
      for (let l = 0; l < L; l++) {
        dims[`chunkSize_${l}`] = a.chunkSizes[l]!;
        dims[`pending_${l}`] = a.pending[l]!;
        dims[`lr_${l}`] = a.lrs[l]!;
      }
      const h = arr(hs!);
      const arrays: Record<string, FloatArray> = { hs: h, ss: arr(ss!), w2e: arr(w2e!), err: arr(err!) };
      arrays[a.independent ? 'x' : 'xs'] = arr(xin!);
      if (a.inc) {
        arrays.inc1 = arr(inputs[5 + 4 * L]!);
        arrays.inc2 = arr(inputs[6 + 4 * L]!);
      }
      const outs: Tensor[] = [];
      ['d1', 'd2', 'g1', 'g2'].forEach((k, j) => {
        for (let l = 0; l < L; l++) {
          const t = st[j * L + l]!;
          arrays[`${k}_${l}`] = arr(t);
          const o = output(t, [...t.shape]); // the binding copies the state in first
          arrays[`${k}Out_${l}`] = arr(o);
          outs.push(o);
        }
      });
      native.cmsObserve(arrays, dims as Parameters<typeof native.cmsObserve>[1]);
      return outs;
    },
  },
  backward() {
    throw new Error('memory.cmsObserve: the CMS update has no gradient (first order, A11)');
  },
});

/** The tensors of a fused forward that `observe` and the backward read. */
export interface FusedCmsCache {
  /** Level inputs: x [B, T, D] (independent) or xs [L, B, T, D] (chain variants). */
  inputs: Tensor;
  hs: Tensor;
  ss: Tensor;
  w2e: Tensor;
  sink: CmsGradSink;
}

/** One fused CMS forward; `probe` [L, B, T, D] zeros (requiresGrad) collect the error signals. */
export function fusedCmsForward(
  x: Tensor,
  p: { w1: Tensor[]; d1: Tensor[]; w2: Tensor[]; d2: Tensor[]; agg: Tensor | null; probe: Tensor | null },
): { y: Tensor; cache: FusedCmsCache } {
  const L = p.w1.length;
  const inputs = [x, ...p.w1, ...p.d1, ...p.w2, ...p.d2];
  if (p.agg) inputs.push(p.agg);
  if (p.probe) inputs.push(p.probe);
  const sink: CmsGradSink = { backwards: 0, dw1: null, dw2: null };
  const attrs = { levels: L, independent: p.agg !== null, probe: p.probe !== null, sink };
  const [y, hs, ss, , w2e, xs] = cmsOp(inputs, attrs) as Tensor[];
  const cache = { inputs: (xs ?? x).detach(), hs: hs!.detach(), ss: ss!.detach(), w2e: w2e!.detach(), sink };
  return { y: y!, cache };
}

/**
 * The fused update: errors [L, B, T, D] and the level states → the updated states (same order).
 * `fromProbes`: the errors are the probes' gradients (then the backward's sink may stand in for them).
 * Frees the sink.
 */
export function fusedCmsObserve(
  cache: FusedCmsCache,
  errors: Tensor,
  states: { d1: Tensor[]; d2: Tensor[]; g1: Tensor[]; g2: Tensor[] },
  attrs: CmsObserveAttrs,
  fromProbes: boolean,
): { d1: Tensor[]; d2: Tensor[]; g1: Tensor[]; g2: Tensor[] } {
  const L = attrs.chunkSizes.length;
  const ins = [
    cache.inputs,
    cache.hs,
    cache.ss,
    cache.w2e,
    errors,
    ...states.d1,
    ...states.d2,
    ...states.g1,
    ...states.g2,
  ];
  const k = cache.sink;
  const inc = fromProbes && k.backwards === 1 && k.dw1 !== null && k.dw1.device === errors.device;
  if (inc) ins.push(k.dw1!, k.dw2!);
  const outs = observeOp(ins, { ...attrs, inc }) as Tensor[];
  releaseSink(k);
  const at = (k: number) => outs.slice(k * L, (k + 1) * L);
  return { d1: at(0), d2: at(1), g1: at(2), g2: at(3) };
}

/**
 * The reference's event loop on the schedule counters only (the kernel applied the updates):
 * T more tokens; every level whose pending count reaches its chunk size fires (pending 0, updates + 1).
 */
export function advanceCounters(
  chunkSizes: readonly number[],
  levels: { pending: number; updates: number }[],
  T: number,
): void {
  let pos = 0;
  while (pos < T) {
    let n = T - pos;
    levels.forEach((l, i) => (n = Math.min(n, chunkSizes[i]! - l.pending)));
    pos += n;
    levels.forEach((l, i) => {
      l.pending += n;
      if (l.pending === chunkSizes[i]) {
        l.pending = 0;
        l.updates++;
      }
    });
  }
}
