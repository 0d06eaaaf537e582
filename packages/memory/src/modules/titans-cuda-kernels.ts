/**
 * The 'cuda' kernels of a fused Titans memory (MLP or linear: ./fused-titans-cuda.ts,
 * ./fused-titans-linear-cuda.ts), registered from a small description: inputs q, k, v, θ, η, α,
 * then the initial states (input 6 + i for final state i); outputs o and the final states. Operands
 * run in q's dtype (float32 or float64), contiguous. With no tokens or an empty memory the native
 * kernels are not called: the states pass through (forward) and so do their gradients (backward).
 */
import { native } from '@nl/native';
import type { Tensor } from '@nl/tensor';
import { cudaDTypeOf, emptyTensor, registerKernel } from '@nl/tensor/internal';
import { inInputDtypes, off, ptr, Temps } from './cuda-operands.js';

/** The attributes both Titans memories share. */
export interface TitansCudaAttrs {
  chunkSize: number;
  readAfterWrite: boolean;
}

/** A native entry point: (dtype, dims, chunk, readAfterWrite, device pointers, element offsets). */
type NativeCall = typeof native.cudaTitansLinearForward;

export interface TitansCudaSpec<A extends TitansCudaAttrs> {
  /** Registered as `${op}.forward` / `${op}.backward`. */
  op: string;
  /** The kernel's five dims from the contiguous inputs. */
  dims(ins: readonly Tensor[], attrs: A): number[];
  /** Index of the input whose shape o takes. */
  oLike: number;
  /** For each final state, the index of the input whose shape it takes. */
  stateLike: readonly number[];
  forward: NativeCall;
  backward: NativeCall;
}

/** The first input of each final state (its initial value). */
const kFirstState = 6;

/** Whether the native kernels have work: tokens and a non-empty memory (all five dims > 0). */
const nonEmpty = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1) > 0;

/** Chunk size handed to the kernels (the attribute, at least 1). */
const chunkOf = (attrs: TitansCudaAttrs) => Math.max(1, Math.floor(attrs.chunkSize));

export function registerTitansCuda<A extends TitansCudaAttrs>(spec: TitansCudaSpec<A>): void {
  const forwardCuda = (_ctx: unknown, inputs: Tensor[], attrs: A): Tensor[] => {
    const tmp = new Temps();
    try {
      const dtype = inputs[0]!.dtype;
      const ins = inputs.map((t) => tmp.take(t, dtype));
      const device = ins[0]!.device;
      const dims = spec.dims(ins, attrs);
      const o = emptyTensor(ins[spec.oLike]!.shape, dtype, device, !nonEmpty(dims));
      const states = spec.stateLike.map((i) => emptyTensor(ins[i]!.shape, dtype, device, false));
      if (!nonEmpty(dims)) {
        for (const [i, st] of states.entries()) if (st.numel > 0) st.copy_(ins[kFirstState + i]!);
        return [o, ...states];
      }
      const ops = [...ins, o, ...states];
      spec.forward(
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
  };

  const backwardCuda = (
    ctx: { inputs: readonly Tensor[]; attrs: A },
    upstream: (Tensor | null | undefined)[],
  ): Tensor[] => {
    const tmp = new Temps();
    try {
      const dtype = ctx.inputs[0]!.dtype;
      const ins = ctx.inputs.map((t) => tmp.take(t, dtype));
      const nOut = 1 + spec.stateLike.length; // o and the final states
      const ups = Array.from({ length: nOut }, (_, i) => (upstream[i] ? tmp.take(upstream[i], dtype) : null));
      const dims = spec.dims(ins, ctx.attrs);
      const device = ins[0]!.device;
      const grads = ctx.inputs.map((t) => emptyTensor(t.shape, dtype, device, !nonEmpty(dims)));
      if (!nonEmpty(dims)) {
        // T = 0 (or an empty memory): the final-state gradients pass through
        for (let s = 0; s < spec.stateLike.length; s++) {
          const u = ups[1 + s];
          const g = grads[kFirstState + s]!;
          if (u && g.numel > 0) g.copy_(u);
        }
      } else {
        const ops = [...ins, ...ups, ...grads];
        const { readAfterWrite } = ctx.attrs;
        spec.backward(
          cudaDTypeOf(dtype),
          dims,
          chunkOf(ctx.attrs),
          readAfterWrite,
          ops.map(ptr),
          ops.map(off),
        );
      }
      return inInputDtypes(grads, ctx.inputs);
    } finally {
      tmp.free();
    }
  };

  registerKernel(`${spec.op}.forward`, 'cuda', forwardCuda);
  registerKernel(`${spec.op}.backward`, 'cuda', backwardCuda);
}
