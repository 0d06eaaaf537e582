/**
 * A node of the autograd graph: one recorded op application. Output tensors point at their node
 * (and their output index); the node points at its source tensors (to route gradients to their
 * own nodes or to leaves) and, in `ctx`, at untracked aliases of the values the backward rule
 * needs, so disposing intermediates (e.g. at the end of a tidy) never breaks a later backward.
 */
import type { Tensor } from '../tensor.js';

/** What a backward rule sees. */
export interface GradCtx {
  /** Op name (the key of the rule in the grad table). */
  readonly op: string;
  /** Values of the inputs at forward time (untracked aliases; never dispose them). */
  readonly inputs: readonly Tensor[];
  /** Values of the outputs (untracked aliases). */
  readonly outputs: readonly Tensor[];
  /** Extra tensors the forward saved (untracked aliases). */
  readonly saved: readonly Tensor[];
  /** Non-tensor attributes of the op. */
  readonly attrs: Readonly<Record<string, any>>;
  /** Which inputs need a gradient (a rule may return null for the others). */
  readonly needsInputGrad: readonly boolean[];
}

/** Backward rule: one gradient (or null) per input, given one gradient (or null) per output. */
export type GradRule = (ctx: GradCtx, gradOutputs: (Tensor | null)[]) => (Tensor | null)[];

export interface Node {
  readonly op: string;
  /** The tensors the op was applied to (gradients are routed to them). */
  sources: Tensor[];
  readonly inputShapes: (readonly number[])[];
  readonly inputDtypes: string[];
  readonly outputShapes: (readonly number[])[];
  readonly outputDtypes: string[];
  ctx: GradCtx;
  /** Creation order: a node's sources always come from nodes with smaller seq. */
  readonly seq: number;
  /** Set once backward has run through this node without retainGraph. */
  released: boolean;
}
