/**
 * The 'cuda' kernels of the fused Titans linear memory (`memory.titansLinear.forward` /
 * `.backward`, same signatures as the 'cpu' kernels of ./fused-titans-linear.ts): native kernels
 * of native/src/cuda/kernels/titans_linear.h, one block per (batch, head), a thread per memory row
 * (the forward needs no barrier); the backward recomputes each chunk from its boundary state and
 * reverses it in three block phases a token. Operands run in q's dtype (float32 or float64),
 * contiguous (./titans-cuda-kernels.ts).
 */
import { native } from '@nl/native';
import type { FusedTitansLinearAttrs } from './fused-titans-linear.js';
import { registerTitansCuda } from './titans-cuda-kernels.js';

registerTitansCuda<FusedTitansLinearAttrs>({
  op: 'memory.titansLinear',
  // [B, T, H, Dk, Dv] from q [B, T, H, Dk] and v [B, T, H, Dv]
  dims: ([q, , v]) => [...(q!.shape as [number, number, number, number]), v!.shape[3]!],
  oLike: 2, // o [B, T, H, Dv]
  stateLike: [6, 7], // M, S shaped like m0, s0 [B, H, Dv, Dk]
  forward: (...a) => native.cudaTitansLinearForward(...a), // looked up per call: the binding loads lazily
  backward: (...a) => native.cudaTitansLinearBackward(...a),
});
