/**
 * Small tensor-op helpers for the token loops of the memory modules.
 */
import { matmul, select, squeeze, stack, unsqueeze, type Tensor } from '@nl/tensor';

/** Token t of a sequence [B, T, H, D] → [B, H, D]. */
export const tokenAt = (x: Tensor, t: number): Tensor => select(x, 1, t);

/** Gate of token t, [B, T, H] → [B, H, 1, 1] (broadcasts over a [B, H, R, C] state); or `dflt`. */
export function gateAt(g: Tensor | undefined, t: number, dflt: number): Tensor | number {
  if (g === undefined) return dflt;
  return unsqueeze(unsqueeze(select(g, 1, t), -1), -1);
}

/** Outer product a bᵀ: a [B, H, R], b [B, H, C] → [B, H, R, C]. */
export const outerBH = (a: Tensor, b: Tensor): Tensor => matmul(unsqueeze(a, -1), unsqueeze(b, -2));

/** Matrix-vector product M x: M [B, H, R, C], x [B, H, C] → [B, H, R]. */
export const mv = (m: Tensor, x: Tensor): Tensor => squeeze(matmul(m, unsqueeze(x, -1)), -1);

/** Stacks per-token outputs [B, H, D] into [B, T, H, D]. */
export const stackTokens = (outs: Tensor[]): Tensor => stack(outs, 1);
