/**
 * Batch-1 streaming decoder for HopeLM (nested-learning.md §6.4, plain decoding): each `feed`
 * continues the decoder's own fast state — self-modifying memories (chunk position carried),
 * the 3-token conv caches — with the CMS static (no labels, so no CMS updates). The state is
 * installed into the model before each call and copied out after it, so several decoders,
 * `forward` and training can interleave. Logits equal `HopeLM.forward`'s rows (tested in float64).
 * By default a float32 CPU model decodes with the fused native step (kernels/hope-decode.ts: one
 * native call per block on a packed copy of the state, the model untouched); `{ fused: false }`
 * keeps the tensor-op path, the reference it is tested against.
 */
import { keep, narrow, noGrad, tensor, tidy, type Tensor } from '@nl/tensor';
import { emptyTensor } from '@nl/tensor/internal';
import { arr, type FloatArray } from '../kernels/fused-decode.js';
import { FusedHopeState, fusedHopeBlocker, type FusedHopeParts } from '../kernels/hope-decode.js';
import type { Decoder } from './contract.js';
import type { HopeFastState, HopeLM } from './hope.js';

/** Every tensor of a fast state (memories in name order). */
export function fastStateTensors(s: HopeFastState): Tensor[] {
  const out: Tensor[] = [];
  for (const l of s.layers) {
    const st = l.titans.state ?? {};
    for (const n of Object.keys(st).sort()) {
      const m = st[n]!;
      out.push(m.w1, m.w2, m.s1, m.s2, m.a1, m.a2);
    }
    for (const lv of l.cms.levels) out.push(lv.d1, lv.d2, lv.g1, lv.g2);
    if (l.conv !== null) out.push(l.conv);
    if (l.convV) out.push(l.convV); // valueStream
  }
  return out;
}

/** Marks a fast state's tensors as kept (they outlive the enclosing tidy scopes); returns it. */
export function keepFastState(s: HopeFastState): HopeFastState {
  for (const t of fastStateTensors(s)) keep(t);
  return s;
}

/** Frees the tensors of a fast state. */
export function disposeFastState(s: HopeFastState): void {
  for (const t of fastStateTensors(s)) if (!t.isDisposed) t.dispose();
}

/** A deep copy of a fast state (new tensors). */
export function cloneFastState(model: HopeLM, s: HopeFastState): HopeFastState {
  return tidy(() =>
    noGrad(() => {
      model.loadFastState(s);
      return keepFastState(model.fastState());
    }),
  );
}

/** Options of a HopeDecoder. */
export interface HopeDecoderOptions {
  /**
   * true: the fused native step (kernels/hope-decode.ts; throws naming why it cannot run);
   * false: the tensor-op path (the reference); default: fused when the model is float32 on the CPU
   * and supported, checked at every step (the tensor-op path otherwise, on the same state).
   */
  fused?: boolean;
}

/** The HopeLM parts the fused step reads. */
export function fusedHopeParts(model: HopeLM): FusedHopeParts {
  const c = model.config;
  return {
    label: 'HopeLM',
    vocabSize: c.vocabSize,
    dim: c.dim,
    embed: model.embed,
    normF: model.normF,
    head: model.head,
    blocks: model.blocks,
    config: c,
  };
}

export class HopeDecoder implements Decoder {
  /** The tensor form of the state; null while the fused step holds it packed. */
  private state: HopeFastState | null;
  private readonly fused: FusedHopeState | null;
  private readonly parts: FusedHopeParts;
  private _position = 0;
  private disposed = false;

  /** Starts from `initial` (copied) or from the meta-learned init. */
  constructor(
    private readonly model: HopeLM,
    initial?: HopeFastState,
    private readonly options: HopeDecoderOptions = {},
  ) {
    this.parts = fusedHopeParts(model);
    if (options.fused === true) {
      const why = fusedHopeBlocker(this.parts);
      if (why !== null) throw new Error(`HopeLM fused decoder: ${why}`);
    }
    this.fused = options.fused === false ? null : new FusedHopeState(this.parts);
    this.state = tidy(() =>
      noGrad(() => {
        if (initial === undefined) model.resetFast();
        else model.loadFastState(initial);
        return keepFastState(model.fastState());
      }),
    );
  }

  get position(): number {
    return this._position;
  }

  /** Whether the next step runs the fused native path. */
  get fusedNext(): boolean {
    if (this.fused === null) return false;
    const why = fusedHopeBlocker(this.parts);
    if (this.options.fused === true && why !== null)
      throw new Error(`HopeLM fused decoder: ${why} (the model changed under the decoder)`);
    return why === null && (this.options.fused === true || this.model.embed.weight.dtype === 'float32');
  }

  /** The decoder's current fast state (owned by the decoder; valid until its next step; copy before keeping it). */
  get fastState(): HopeFastState {
    if (this.state !== null) return this.state;
    return { layers: this.fused!.layerStates() };
  }

  /** Consumes ids in order; logits of every fed position [1, n, V] (the caller disposes them). */
  step(ids: Int32Array): Tensor {
    this.check(ids);
    if (this.fusedNext) {
      const v = this.model.config.vocabSize;
      const out = emptyTensor([1, ids.length, v], this.model.embed.weight.dtype, 'cpu', false);
      this.fusedRun(ids, arr(out));
      return out;
    }
    return this.tensorStep(ids);
  }

  feed(ids: Int32Array): Float32Array {
    this.check(ids);
    if (this.fusedNext) {
      const v = this.model.config.vocabSize;
      return Float32Array.from(this.fusedRun(ids).subarray((ids.length - 1) * v));
    }
    const out = this.tensorStep(ids); // [1, n, V]
    try {
      // Sampling needs the next token's logits on the host: the one device -> host transfer of a
      // decode step, and only the last row ([V]) is read.
      return noGrad(() => tidy(() => Float32Array.from(narrow(out, 1, out.shape[1]! - 1, 1).dataSync())));
    } finally {
      out.dispose();
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.state !== null) disposeFastState(this.state);
    this.fused?.dispose();
  }

  private check(ids: Int32Array): void {
    if (this.disposed) throw new Error('HopeDecoder: the decoder was disposed');
    if (!(ids instanceof Int32Array) || ids.length === 0)
      throw new Error('HopeDecoder: ids must be a non-empty Int32Array');
    const v = this.model.config.vocabSize;
    ids.forEach((id, i) => {
      if (id < 0 || id >= v) throw new Error(`HopeDecoder: ids[${i}] = ${id} is outside [0, ${v})`);
    });
  }

  /** The fused step on the packed state (packing the tensor state first). */
  private fusedRun(ids: Int32Array, logits?: FloatArray): FloatArray {
    const f = this.fused!;
    if (this.state !== null) {
      f.adopt(this.state.layers);
      this.state = null;
    }
    const out = f.run(ids, logits);
    this._position += ids.length;
    return out;
  }

  /** The tensor-op step: the state installed into the model, run, copied out. */
  private tensorStep(ids: Int32Array): Tensor {
    if (this.state === null) this.state = { layers: this.fused!.release() };
    const state = this.state;
    const { logits, next } = tidy(() =>
      noGrad(() => {
        this.model.loadFastState(state);
        const ids1 = tensor(ids, { dtype: 'int32', shape: [1, ids.length], device: this.model.device }); // upload
        const out = this.model.step(ids1); // [1, n, V]
        return { logits: out, next: keepFastState(this.model.fastState()) };
      }),
    );
    disposeFastState(state);
    this.state = next;
    this._position += ids.length;
    return logits;
  }
}
