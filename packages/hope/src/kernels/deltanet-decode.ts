/**
 * `FusedDeltaNetDecoder`: the batch-1 streaming decoder of DeltaNetLM on the CPU, each block one
 * native call (`native.decodeDeltaNetBlock`: RMSNorm, qkv projection, causal conv + SiLU on the conv
 * cache, ℓ2 norms, α/β gates, the delta-rule write M ← α(M − β(Mk)kᵀ) + βvkᵀ and read o = Mq per
 * head, per-head output norm ⊙ SiLU gate, W_o, residual, SwiGLU half) and the final norm + head
 * one more (fused-decode.ts). The tensor-op `StreamDecoder` stays the reference.
 *
 * Per block the state is two CPU tensors: the conv cache [K − 1, 3D] (zeros at the start: zero
 * history, as the reference) and the memory M [H, D/H, D/H] (M = Sᵀ, starting from the block's M0).
 */
import { native } from '@nl/native';
import { keep, type Tensor } from '@nl/tensor';
import { emptyTensor } from '@nl/tensor/internal';
import type { nn } from '@nl/tensor';
import {
  FusedShellDecoder,
  arr,
  disposeMixerStates,
  type FusedMixerBlock,
  type MixerState,
  shellBlocker,
  type FloatArray,
  type FusedShellParts,
} from './fused-decode.js';

/** What the fused decoder reads from a gated-DeltaNet block. */
export interface FusedDeltaNetBlock extends FusedMixerBlock {
  readonly alphaProj: nn.Linear;
  readonly betaProj: nn.Linear;
  /** [H] */
  readonly aLog: Tensor;
  readonly dtBias: Tensor;
  /** The memory's initial state M0 [H, Dv, Dk]. */
  readonly memory: { readonly m0: Tensor };
}

/** What the fused decoder reads from its model. */
export interface FusedDeltaNetParts extends FusedShellParts {
  blocks: readonly FusedDeltaNetBlock[];
}

/** Why the fused decoder cannot run `parts` (null when it can). */
export function fusedDeltaNetBlocker(parts: FusedDeltaNetParts): string | null {
  const why = shellBlocker(parts, 'decodeDeltaNetBlock');
  if (why !== null) return why;
  if (parts.blocks.some((b) => b.qkv.conv.bias !== null)) return 'the q/k/v conv has a bias';
  return null;
}

/** conv [K − 1, 3D], memory M [H, Dh, Dh] */
type DeltaState = MixerState;

export class FusedDeltaNetDecoder extends FusedShellDecoder {
  private state: DeltaState[] | null = null;

  constructor(private readonly parts: FusedDeltaNetParts) {
    super(parts, () => fusedDeltaNetBlocker(parts));
  }

  protected runBlocks(x: FloatArray, n: number): void {
    const d = this.parts.dim;
    const state = (this.state ??= this.freshState());
    this.parts.blocks.forEach((b, l) => {
      const s = state[l]!;
      const heads = b.aLog.shape[0]!;
      native.decodeDeltaNetBlock(
        {
          x,
          ...this.mixerArrays(b, heads, s),
          wAlpha: arr(b.alphaProj.weight),
          wBeta: arr(b.betaProj.weight),
          aLog: arr(b.aLog),
          dtBias: arr(b.dtBias),
        },
        {
          tokens: n,
          d,
          heads,
          hidden: b.mlp.gate.weight.shape[0]!,
          window: b.qkv.conv.weight.shape[1]!,
          eps: b.norm1.eps,
        },
      );
    });
  }

  /** Zero conv history and M = M0 per block (copied: the decoder writes its own state). */
  private freshState(): DeltaState[] {
    return this.parts.blocks.map((b) => {
      const k = b.qkv.conv.weight.shape[1]!;
      const conv = keep(emptyTensor([k - 1, 3 * this.parts.dim], this.dtype, 'cpu', true));
      const memory = keep(emptyTensor(b.memory.m0.shape, this.dtype, 'cpu', false));
      arr(memory).set(arr(b.memory.m0));
      return { conv, memory };
    });
  }

  protected freeState(): void {
    disposeMixerStates(this.state);
    this.state = null;
  }
}
