/**
 * Batch-1 streaming decoder for HopeLM (nested-learning.md §6.4, plain decoding): each `feed`
 * continues the decoder's own fast state — self-modifying memories (chunk position carried),
 * the 3-token conv caches — with the CMS static (no labels, so no CMS updates). The state is
 * installed into the model before each call and copied out after it, so several decoders,
 * `forward` and training can interleave. Logits equal `HopeLM.forward`'s rows (tested in float64).
 */
import { keep, narrow, noGrad, tensor, tidy, type Tensor } from '@nl/tensor';
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

export class HopeDecoder implements Decoder {
  private state: HopeFastState;
  private _position = 0;
  private disposed = false;

  /** Starts from `initial` (copied) or from the meta-learned init. */
  constructor(
    private readonly model: HopeLM,
    initial?: HopeFastState,
  ) {
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

  /** The decoder's current fast state (owned by the decoder; copy before keeping it). */
  get fastState(): HopeFastState {
    return this.state;
  }

  /** Consumes ids in order; logits of every fed position [1, n, V] (the caller disposes them). */
  step(ids: Int32Array): Tensor {
    if (this.disposed) throw new Error('HopeDecoder: the decoder was disposed');
    if (!(ids instanceof Int32Array) || ids.length === 0)
      throw new Error('HopeDecoder: ids must be a non-empty Int32Array');
    const v = this.model.config.vocabSize;
    ids.forEach((id, i) => {
      if (id < 0 || id >= v) throw new Error(`HopeDecoder: ids[${i}] = ${id} is outside [0, ${v})`);
    });
    const { logits, next } = tidy(() =>
      noGrad(() => {
        this.model.loadFastState(this.state);
        const ids1 = tensor(ids, { dtype: 'int32', shape: [1, ids.length], device: this.model.device }); // upload
        const out = this.model.step(ids1); // [1, n, V]
        return { logits: out, next: keepFastState(this.model.fastState()) };
      }),
    );
    disposeFastState(this.state);
    this.state = next;
    this._position += ids.length;
    return logits;
  }

  feed(ids: Int32Array): Float32Array {
    const out = this.step(ids); // [1, n, V]
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
    disposeFastState(this.state);
  }
}
