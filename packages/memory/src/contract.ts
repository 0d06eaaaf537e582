/**
 * The `AssociativeMemory` contract of @nl/memory (nested-learning.md §1, §3, §4): a memory that
 * reads and writes a sequence [B, T, H, D] in context. Meta-learned initial parameters are
 * ordinary `nn` parameters (trained by the outer optimizer); the fast state written in context is
 * kept apart from them, starts from them after `reset()`, and carries across calls.
 */
import type { Tensor } from '@nl/tensor';

/**
 * Per-token, per-head gates, each [B, T, H] (one scalar per token and head). Which gates a
 * member uses is documented on the member; missing gates take the member's default.
 */
export interface MemoryGates {
  /** Decay / retention of the state (gated delta: α; Titans: forget gate α, M ← (1 − α) M + S). */
  alpha?: Tensor;
  /** Write strength (linear / gated delta). */
  beta?: Tensor;
  /** Inner learning rate θ (Titans). */
  theta?: Tensor;
  /** Momentum decay η (Titans). */
  eta?: Tensor;
}

/** A detached copy of a memory's fast state and schedule counters. */
export interface MemorySnapshot {
  /** Fast state tensors by name (detached clones), or null when the memory was reset. */
  state: Record<string, Tensor> | null;
  /** Tokens written since the last reset. */
  tokens: number;
}

/** Common configuration: heads and key / value widths. */
export interface MemoryConfig {
  heads: number;
  dk: number;
  dv: number;
  /** dtype of the initial parameters (default float32). */
  dtype?: 'float32' | 'float64';
}

/** The associative-memory contract every member implements. */
export interface AssociativeMemory {
  readonly heads: number;
  readonly dk: number;
  readonly dv: number;
  /** True after `freeze()`: forward and read never change the state. */
  readonly frozen: boolean;
  /** Tokens written since the last reset. */
  readonly tokens: number;
  /**
   * Reads and writes a sequence: queries q [B, T, H, Dk], keys k [B, T, H, Dk], values
   * v [B, T, H, Dv], gates [B, T, H]. Returns outputs [B, T, H, Dv]; the fast state advances
   * (unless frozen) and stays connected to the autograd graph, so the outer gradient flows
   * through in-sequence writes to the initial parameters and to q, k, v and the gates.
   */
  forward(q: Tensor, k: Tensor, v: Tensor, gates?: MemoryGates): Tensor;
  /** Reads the current state without writing: q [B, T, H, Dk] → [B, T, H, Dv]. */
  read(q: Tensor): Tensor;
  /** Writes a sequence without producing outputs (no-op when frozen). */
  write(k: Tensor, v: Tensor, gates?: MemoryGates): void;
  /** Drops the fast state: the next call starts from the initial parameters. */
  reset(): void;
  /** Cuts the autograd graph of the fast state (truncated backprop across calls). */
  detachState(): void;
  snapshot(): MemorySnapshot;
  restore(s: MemorySnapshot): void;
  /** Reads only from now on. */
  freeze(): void;
  unfreeze(): void;
}
