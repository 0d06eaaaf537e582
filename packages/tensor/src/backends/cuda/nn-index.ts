/**
 * CUDA kernels of the index-driven nn ops, registered under 'cuda': `nn.embedding` (gather,
 * atomic scatter-add backward) and `nn.crossEntropy` (row softmax + loss, device-side sum/mean,
 * backward from the saved softmax). Same signatures and saved tensors as the CPU twins in
 * nn/functional. Ids and targets stay on the device: the kernels skip ids outside [0, V) (zero
 * rows, no gradient) and give NaN losses for targets outside [0, C), where the CPU throws.
 */
import { native } from '@nl/native';
import type { BackwardCtx, ForwardCtx } from '../../autograd/custom-op.js';
import { registerKernel } from '../../backend/registry.js';
import type { Tensor } from '../../tensor.js';
import { dev, dt, Temps } from './nn-util.js';

type Attrs = Record<string, any>;

const REDUCTION: Record<string, 0 | 1 | 2> = { none: 0, sum: 1, mean: 2 };

function reductionCode(r: unknown): 0 | 1 | 2 {
  const code = REDUCTION[r as string];
  if (code === undefined) throw new TypeError(`crossEntropy: unknown reduction ${JSON.stringify(r)}`);
  return code;
}

registerKernel('nn.embedding.forward', 'cuda', (_ctx: ForwardCtx<Attrs>, inputs: Tensor[]) => {
  const tmp = new Temps();
  try {
    const [w, ids] = [tmp.contig(inputs[0]), tmp.contig(inputs[1])];
    const [v, d] = w.shape;
    const out = tmp.out([...ids.shape, d], w.dtype, w);
    native.cudaEmbeddingForward(dt(w), ...dev(w), v, d, ...dev(ids), ids.numel, ...dev(out));
    return out;
  } finally {
    tmp.free();
  }
});

registerKernel('nn.embedding.backward', 'cuda', (ctx: BackwardCtx<Attrs>, [g]: (Tensor | null)[]) => {
  if (g === null) return [null, null];
  const tmp = new Temps();
  try {
    const [w, ids] = [ctx.inputs[0], tmp.contig(ctx.inputs[1])];
    const [v, d] = w.shape;
    const gg = tmp.like(g, w);
    const dw = tmp.out(w.shape, w.dtype, w, true);
    native.cudaEmbeddingBackward(dt(w), ...dev(gg), ...dev(ids), ids.numel, d, v, ...dev(dw));
    return [dw, null];
  } finally {
    tmp.free();
  }
});

registerKernel(
  'nn.crossEntropy.forward',
  'cuda',
  (ctx: ForwardCtx<Attrs>, inputs: Tensor[], attrs: Attrs) => {
    const tmp = new Temps();
    try {
      const [logits, targets] = [tmp.contig(inputs[0]), tmp.contig(inputs[1])];
      const [n, c] = logits.shape;
      const mode = reductionCode(attrs.reduction);
      const probs = tmp.out([n, c], logits.dtype, logits);
      const losses = tmp.out([n], 'float64', logits);
      const stats = tmp.out([2], 'float64', logits, true);
      const out = mode === 0 ? null : tmp.out([], logits.dtype, logits);
      native.cudaCrossEntropyForward(dt(logits), ...dev(logits), ...dev(targets), n, c, attrs.ignoreIndex, mode, ...dev(probs), ...dev(losses), ...dev(stats), ...dev(out)); // prettier-ignore
      ctx.save(probs, targets, stats);
      if (out !== null) return out;
      if (logits.dtype === 'float64') return losses;
      const none = tmp.out([n], logits.dtype, logits);
      native.cudaCopy(dev(none)[0], dt(none), [n], dev(losses)[0], dt(losses), 0, [1]);
      return none;
    } finally {
      tmp.free();
    }
  },
);

registerKernel('nn.crossEntropy.backward', 'cuda', (ctx: BackwardCtx<Attrs>, [g]: (Tensor | null)[]) => {
  if (g === null) return [null, null];
  const [probs, targets, stats] = ctx.saved;
  const [n, c] = probs.shape;
  const mode = reductionCode(ctx.attrs.reduction);
  const tmp = new Temps();
  try {
    const gg = tmp.like(g, probs);
    const grad = tmp.out([n, c], probs.dtype, probs);
    native.cudaCrossEntropyBackward(dt(probs), ...dev(probs), ...dev(targets), n, c, ctx.attrs.ignoreIndex, mode, ...dev(gg), ...dev(stats), ...dev(grad)); // prettier-ignore
    return [grad, null];
  } finally {
    tmp.free();
  }
});
