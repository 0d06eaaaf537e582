/**
 * The 'cuda' kernels of the fused Titans MLP memory (`memory.titansMlp.forward` / `.backward`, same
 * signatures as the 'cpu' kernels of ./fused-titans.ts): native kernels of
 * native/src/cuda/kernels/titans_mlp*.h, one block per (batch, head); a chunk's inner-gradient
 * factors come from its start weights in three block-wide phases, the weights are then written and
 * read token by token. The backward recomputes the forward from chunk-boundary states. Operands run
 * in q's dtype (float32 or float64), contiguous (./titans-cuda-kernels.ts).
 */
import { native } from '@nl/native';
import type { FusedTitansAttrs } from './fused-titans.js';
import { registerTitansCuda } from './titans-cuda-kernels.js';

registerTitansCuda<FusedTitansAttrs>({
  op: 'memory.titansMlp',
  // [B, T, H, D, Dh] from q [B, T, H, D] and the hidden width
  dims: ([q], attrs) => [...(q!.shape as [number, number, number, number]), attrs.hidden],
  oLike: 0, // o [B, T, H, D]
  stateLike: [6, 7, 6, 7], // W1, W2, S1, S2 shaped like w1 [B, H, D, Dh], w2 [B, H, Dh, D]
  forward: (...a) => native.cudaTitansMlpForward(...a), // looked up per call: the binding loads lazily
  backward: (...a) => native.cudaTitansMlpBackward(...a),
});
