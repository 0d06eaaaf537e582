/**
 * `FusedTitansDecoder`: the batch-1 streaming decoder of TitansLM on the CPU, each block one native
 * call (`native.decodeTitansBlock`: RMSNorm, qkv projection, causal conv + SiLU on the conv cache,
 * ℓ2 norms of q and k, the θ/η/α gates, the memory MLP's one-token write — chunk-start anchors,
 * momenta, forget — and read o = q + W1 σ(W2 q) per head, per-head output norm ⊙ SiLU gate, W_o,
 * residual, SwiGLU half) and the final norm + head one more (fused-decode.ts). The maths is
 * TitansMemory's reference loop token by token (the ONNX step graph's formulation); the tensor-op
 * `StreamDecoder` stays the reference.
 *
 * Per block the state is two CPU tensors: the conv cache [K − 1, 3D] (zeros: zero history) and the
 * memory state [6, H, D/H · M] holding, in order, the MLP weights w1 [H, D/H, M] and w2 [H, M, D/H]
 * (starting from the block's meta-learned W1, W2), their momenta s1, s2 (zeros) and the chunk-start
 * anchors a1, a2. The chunk phase is the decoder's position (the memory's token count).
 */
import { native } from '@nl/native';
import { keep, type nn, type Tensor } from '@nl/tensor';
import { emptyTensor } from '@nl/tensor/internal';
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

/** What the fused decoder reads from a Titans block. */
export interface FusedTitansBlock extends FusedMixerBlock {
  /** θ, η, α gate heads [D] → [H], with bias. */
  readonly thetaProj: nn.Linear;
  readonly etaProj: nn.Linear;
  readonly alphaProj: nn.Linear;
  /** The memory: meta-learned initial weights w1 [H, D/H, M], w2 [H, M, D/H]. */
  readonly memory: {
    readonly w1: Tensor;
    readonly w2: Tensor;
    readonly hidden: number;
    readonly chunkSize: number;
    readonly readAfterWrite: boolean;
    readonly innerGradClip: number;
  };
}

/** What the fused decoder reads from its model. */
export interface FusedTitansParts extends FusedShellParts {
  blocks: readonly FusedTitansBlock[];
  heads: number;
  /** Gate bounds: θ, η, α = max · sigmoid(W h + b). */
  thetaMax: number;
  etaMax: number;
  alphaMax: number;
}

/** Why the fused decoder cannot run `parts` (null when it can). */
export function fusedTitansBlocker(parts: FusedTitansParts): string | null {
  const why = shellBlocker(parts, 'decodeTitansBlock');
  if (why !== null) return why;
  for (const b of parts.blocks) {
    if (b.qkv.conv.bias !== null) return 'the q/k/v conv has a bias';
    if (!b.memory.readAfterWrite) return 'the memory reads before its write';
    if (b.memory.innerGradClip > 0) return 'the memory clips its inner gradient (innerGradClip)';
    if ([b.thetaProj, b.etaProj, b.alphaProj].some((l) => l.bias === null)) return 'a gate has no bias';
  }
  return null;
}

/** One block's state: conv [K − 1, 3D], memory [6, H, Dh · M] (w1, w2, s1, s2, a1, a2). */
type TitansState = MixerState;

export class FusedTitansDecoder extends FusedShellDecoder {
  private state: TitansState[] | null = null;

  constructor(private readonly parts: FusedTitansParts) {
    super(parts, () => fusedTitansBlocker(parts));
  }

  protected runBlocks(x: FloatArray, n: number, pos: number): void {
    const { dim: d, heads, thetaMax, etaMax, alphaMax } = this.parts;
    const state = (this.state ??= this.freshState());
    this.parts.blocks.forEach((b, l) => {
      const s = state[l]!;
      native.decodeTitansBlock(
        {
          x,
          ...this.mixerArrays(b, heads, s),
          wTheta: arr(b.thetaProj.weight),
          bTheta: arr(b.thetaProj.bias!),
          wEta: arr(b.etaProj.weight),
          bEta: arr(b.etaProj.bias!),
          wAlpha: arr(b.alphaProj.weight),
          bAlpha: arr(b.alphaProj.bias!),
        },
        {
          tokens: n,
          d,
          heads,
          hidden: b.mlp.gate.weight.shape[0]!,
          memoryHidden: b.memory.hidden,
          window: b.qkv.conv.weight.shape[1]!,
          chunkSize: b.memory.chunkSize,
          position: pos,
          eps: b.norm1.eps,
          thetaMax,
          etaMax,
          alphaMax,
        },
      );
    });
  }

  /** Zero conv history; weights = the meta-learned W1, W2 (copied), momenta zero, anchors = W. */
  private freshState(): TitansState[] {
    const { dim: d, heads } = this.parts;
    return this.parts.blocks.map((b) => {
      const k = b.qkv.conv.weight.shape[1]!;
      const size = d * b.memory.hidden; // H · Dh · M
      const conv = keep(emptyTensor([k - 1, 3 * d], this.dtype, 'cpu', true));
      const memory = keep(emptyTensor([6, heads, size / heads], this.dtype, 'cpu', true));
      const all = arr(memory);
      all.subarray(0, size).set(arr(b.memory.w1)); // w1
      all.subarray(size, 2 * size).set(arr(b.memory.w2)); // w2
      all.copyWithin(4 * size, 0, 2 * size); // a1, a2 = w1, w2; s1, s2 stay zero
      return { conv, memory };
    });
  }

  protected freeState(): void {
    disposeMixerStates(this.state);
    this.state = null;
  }
}
