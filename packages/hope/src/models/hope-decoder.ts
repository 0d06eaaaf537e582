/**
 * Batch-1 streaming decoder for HopeLM (nested-learning.md §6.4, plain decoding): each `feed`
 * continues the decoder's own fast state — self-modifying memories (chunk position carried),
 * the 3-token conv caches — with the CMS static (no labels, so no CMS updates). The state is
 * installed into the model before each call and copied out after it, so several decoders,
 * `forward` and training can interleave. Logits equal `HopeLM.forward`'s rows (tested in float64).
 */
import { noGrad, tensor, tidy } from '@nl/tensor';
import type { Decoder } from './contract.js';
import type { HopeFastState, HopeLM } from './hope.js';

/** Frees the tensors of a fast state. */
export function disposeFastState(s: HopeFastState): void {
  for (const l of s.layers) {
    for (const m of Object.values(l.titans.state ?? {}))
      for (const t of [m.w1, m.w2, m.s1, m.s2, m.a1, m.a2]) if (!t.isDisposed) t.dispose();
    for (const lv of l.cms.levels)
      for (const t of [lv.d1, lv.d2, lv.g1, lv.g2]) if (!t.isDisposed) t.dispose();
    if (l.conv !== null && !l.conv.isDisposed) l.conv.dispose();
  }
}

/** A deep copy of a fast state (new tensors). */
export function cloneFastState(model: HopeLM, s: HopeFastState): HopeFastState {
  return noGrad(() => {
    model.loadFastState(s);
    return model.fastState();
  });
}

export class HopeDecoder implements Decoder {
  private state: HopeFastState;
  private _position = 0;
  private disposed = false;

  /** Starts from `initial` (copied) or from the meta-learned init. */
  constructor(
    private readonly model: HopeLM,
    initial?: HopeFastState,
  ) {
    this.state = noGrad(() => {
      if (initial === undefined) model.resetFast();
      else model.loadFastState(initial);
      return model.fastState();
    });
  }

  get position(): number {
    return this._position;
  }

  /** The decoder's current fast state (owned by the decoder; copy before keeping it). */
  get fastState(): HopeFastState {
    return this.state;
  }

  feed(ids: Int32Array): Float32Array {
    if (this.disposed) throw new Error('HopeDecoder.feed: the decoder was disposed');
    if (!(ids instanceof Int32Array) || ids.length === 0)
      throw new Error('HopeDecoder.feed: ids must be a non-empty Int32Array');
    const v = this.model.config.vocabSize;
    ids.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id >= v)
        throw new Error(`HopeDecoder.feed: ids[${i}] = ${id} is outside [0, ${v})`);
    });
    const { logits, next } = tidy(() =>
      noGrad(() => {
        this.model.loadFastState(this.state);
        const out = this.model.step(tensor(ids, { dtype: 'int32', shape: [1, ids.length] })); // [1, n, V]
        const last = out.select(1, ids.length - 1).reshape([v]);
        return { logits: Float32Array.from(last.dataSync()), next: this.model.fastState() };
      }),
    );
    disposeFastState(this.state);
    this.state = next;
    this._position += ids.length;
    return logits;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    disposeFastState(this.state);
  }
}
