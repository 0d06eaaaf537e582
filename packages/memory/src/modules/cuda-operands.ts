/**
 * Shared plumbing of the 'cuda' kernels of the fused memory ops: contiguous operands in one dtype
 * (copies made for one call, disposed after it), device pointers and element offsets for the
 * native entry points, gradients handed back in their inputs' dtypes.
 */
import type { Tensor } from '@nl/tensor';
import { cudaPointer } from '@nl/tensor/internal';

/** Copies made for one kernel call (contiguous / converted), disposed by `free()`. */
export class Temps {
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

/** Device address of a tensor's buffer (null for an absent operand). */
export const ptr = (t: Tensor | null): number | null => (t === null ? null : cudaPointer(t.storage.buffer));
/** Element offset of a tensor in its buffer (0 for an absent operand). */
export const off = (t: Tensor | null): number => (t === null ? 0 : t.offset);

/** Gradients computed in one dtype, converted to each input's dtype (the computed ones disposed). */
export function inInputDtypes(grads: Tensor[], inputs: readonly Tensor[]): Tensor[] {
  return grads.map((g, i) => {
    const want = inputs[i]!.dtype;
    if (want === g.dtype) return g;
    const c = g.to(want);
    g.dispose();
    return c;
  });
}
