/**
 * The 'cuda' kernels of the fused Titans MLP memory (`memory.titansMlp.forward` / `.backward`, same
 * signatures as the 'cpu' kernels of ./fused-titans.ts): native kernels of
 * native/src/cuda/kernels/titans_mlp*.h, one block per (batch, head); a chunk's inner-gradient
 * factors come from its start weights in three block-wide phases, the weights are then written and
 * read token by token. The backward recomputes the forward from chunk-boundary states. Operands run
 * in q's dtype (float32 or float64), contiguous.
 */
import { native } from '@nl/native';
import type { Tensor } from '@nl/tensor';
import { cudaDTypeOf, cudaPointer, emptyTensor, registerKernel } from '@nl/tensor/internal';
import type { FusedTitansAttrs } from './fused-titans.js';

/** Copies made for one kernel call (contiguous / converted), disposed by `free()`. */
class Temps {
  readonly #made: Tensor[] = [];
  /** `t` contiguous in `dtype`. */
  take(t: Tensor, dtype: Tensor['dtype']): Tensor {
    let c = t;
    if (c.dtype !== dtype) this.#made.push((c = c.to(dtype)));
    if (!c.isContiguous) this.#made.push((c = c.contiguous()));
    return c;
  }
  free(): void {
    for (const t of this.#made) t.dispose();
    this.#made.length = 0;
  }
}

const ptr = (t: Tensor | null): number | null => (t === null ? null : cudaPointer(t.storage.buffer));
const off = (t: Tensor | null): number => (t === null ? 0 : t.offset);

/** [B, T, H, D, Dh] from q [B, T, H, D] and the hidden width. */
function dimsOf(q: Tensor, hidden: number): number[] {
  const [B, T, H, D] = q.shape as [number, number, number, number];
  return [B, T, H, D, hidden];
}

/** Whether the native kernels have work: tokens and non-empty weights (else states pass through). */
const nonEmpty = ([B, T, H, D, Dh]: number[]) => B * T * H * D * Dh > 0;

/** Chunk size handed to the kernels (the attribute, at least 1). */
const chunkOf = (attrs: FusedTitansAttrs) => Math.max(1, Math.floor(attrs.chunkSize));

function forwardCuda(_ctx: unknown, inputs: Tensor[], attrs: FusedTitansAttrs): Tensor[] {
  const tmp = new Temps();
  try {
    const dtype = inputs[0]!.dtype;
    const ins = inputs.map((t) => tmp.take(t, dtype));
    const [q, , , , , , w1, w2] = ins as Tensor[];
    const dims = dimsOf(q!, attrs.hidden);
    const o = emptyTensor(q!.shape, dtype, q!.device, !nonEmpty(dims));
    const states = [w1!, w2!, w1!, w2!].map((w) => emptyTensor(w.shape, dtype, q!.device, false));
    if (!nonEmpty(dims)) {
      states.forEach((st, i) => st.numel > 0 && st.copy_(ins[6 + i]!));
      return [o, ...states];
    }
    const ops = [...ins, o, ...states];
    native.cudaTitansMlpForward(
      cudaDTypeOf(dtype),
      dims,
      chunkOf(attrs),
      attrs.readAfterWrite,
      ops.map(ptr),
      ops.map(off),
    );
    return [o, ...states];
  } finally {
    tmp.free();
  }
}

interface BackwardCtx {
  inputs: readonly Tensor[];
  attrs: FusedTitansAttrs;
}

function backwardCuda(ctx: BackwardCtx, upstream: (Tensor | null | undefined)[]): Tensor[] {
  const tmp = new Temps();
  try {
    const dtype = ctx.inputs[0]!.dtype;
    const ins = ctx.inputs.map((t) => tmp.take(t, dtype));
    const ups = [0, 1, 2, 3, 4].map((i) => (upstream[i] ? tmp.take(upstream[i], dtype) : null));
    const q = ins[0]!;
    const dims = dimsOf(q, ctx.attrs.hidden);
    const grads = ctx.inputs.map((t) => emptyTensor(t.shape, dtype, q.device, !nonEmpty(dims)));
    if (!nonEmpty(dims)) {
      grads.slice(6).forEach((g, i) => g.numel > 0 && ups[1 + i] && g.copy_(ups[1 + i]!));
    } else {
      const ops = [...ins, ...ups, ...grads];
      native.cudaTitansMlpBackward(
        cudaDTypeOf(dtype),
        dims,
        chunkOf(ctx.attrs),
        ctx.attrs.readAfterWrite,
        ops.map(ptr),
        ops.map(off),
      );
    }
    return grads.map((g, i) => {
      const want = ctx.inputs[i]!.dtype;
      if (want === dtype) return g;
      const c = g.to(want);
      g.dispose();
      return c;
    });
  } finally {
    tmp.free();
  }
}

registerKernel('memory.titansMlp.forward', 'cuda', forwardCuda);
registerKernel('memory.titansMlp.backward', 'cuda', backwardCuda);
