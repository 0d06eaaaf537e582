/**
 * Raw N-API surface of the fused SelfModifyingTitans kernels (native/src/binding/memory_self_mod.cc).
 * x, q, o, dO, dx, dq [B, T, H, D]; w1, s1, a1 (and their gradients) [B, M, H, D, Dh];
 * w2, s2, a2 [B, M, H, Dh, D]; memories in the order k, v, eta, alpha, mem (+ q with adaptiveQ).
 */
type FloatArray = Float32Array | Float64Array;

/** The trailing scalar arguments shared by forward and backward. */
export type SelfModDimsArgs = [
  batch: number,
  seqLen: number,
  heads: number,
  d: number,
  hidden: number,
  mems: number,
  tokens: number,
  chunkMem: number,
  chunkOther: number,
  block: number,
  momentum: number,
  alphaBias: number,
  etaBias: number,
  adaptiveQ: boolean,
  readSnapshot: boolean,
];

type States = [
  w1: FloatArray,
  w2: FloatArray,
  s1: FloatArray,
  s2: FloatArray,
  a1: FloatArray,
  a2: FloatArray,
];
type OptStates = [
  dW1: FloatArray | null,
  dW2: FloatArray | null,
  dS1: FloatArray | null,
  dS2: FloatArray | null,
  dA1: FloatArray | null,
  dA2: FloatArray | null,
];

export interface SelfModBinding {
  /** Writes o, the final w1, w2, s1, s2, a1, a2 and, when given, the block-start states `ckpt`. */
  selfModForward(
    x: FloatArray,
    q: FloatArray,
    ...rest: [...States, o: FloatArray, ...States, ...SelfModDimsArgs, ckpt?: FloatArray | null]
  ): void;
  /**
   * Writes dx, dq and the gradients of the initial states (final-state gradients may be null);
   * `ckpt`: the forward's block-start states (recomputed when absent).
   */
  selfModBackward(
    x: FloatArray,
    q: FloatArray,
    ...rest: [
      ...States,
      dO: FloatArray,
      ...OptStates,
      dx: FloatArray,
      dq: FloatArray,
      ...States,
      ...SelfModDimsArgs,
      ckpt?: FloatArray | null,
    ]
  ): void;
}
