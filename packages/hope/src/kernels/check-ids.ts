/**
 * Kernel `hope.checkIds`: checks that every token id of an Int32 tensor lies in [0, V) and throws
 * naming the first one that does not. It runs where the ids live (on 'sim' the CPU kernel runs
 * behind the registry, so validating a batch moves nothing to the host); a device backend adds
 * `registerKernel('hope.checkIds', '<backend>', fn)`. This file is the only place in @nl/hope
 * model code that opens a tensor's buffer.
 */
import type { Tensor } from '@nl/tensor';
import { cudaFirstBadIndex, elementsOf, hasKernel, registerKernel, runKernel } from '@nl/tensor/internal';

/** Throws naming the first id outside [0, V) (ids: a host array). */
export function checkIds(label: string, ids: ArrayLike<number>, vocabSize: number): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize)
      throw new RangeError(`${label}: token id ${id} at index ${i} is outside [0, ${vocabSize})`);
  }
}

type CheckIdsKernel = (label: string, ids: Tensor, vocabSize: number) => void;

const OP = 'hope.checkIds';
// Guarded so that a second copy of this module (e.g. src and dist in one process) does not throw.
if (!hasKernel(OP, 'cpu'))
  registerKernel(OP, 'cpu', ((label, ids, vocabSize) =>
    checkIds(label, elementsOf(ids), vocabSize)) as CheckIdsKernel);

// CUDA: a device kernel finds the first id outside [0, V); only (position, value) is read back.
if (!hasKernel(OP, 'cuda'))
  registerKernel(OP, 'cuda', ((label, ids, vocabSize) => {
    const bad = cudaFirstBadIndex(ids, 0, vocabSize);
    if (bad !== null)
      throw new RangeError(
        `${label}: token id ${bad.value} at index ${bad.position} is outside [0, ${vocabSize})`,
      );
  }) as CheckIdsKernel);

/** Checks the ids of `ids` (any device) against [0, V), on the ids' device. */
export function checkIdTensor(label: string, ids: Tensor, vocabSize: number): void {
  runKernel<CheckIdsKernel>(OP, ids.device, label, ids, vocabSize);
}
