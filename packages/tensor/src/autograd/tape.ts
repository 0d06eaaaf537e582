/**
 * The autograd tape: `record` links op outputs to a Node when grad mode is on and an input
 * requires grad; `runBackward` walks the nodes reachable from a root in reverse creation order,
 * calls each op's rule from the grad table, sums gradients per tensor, and accumulates into the
 * `grad` of leaves (in place when a gradient already exists, so live `gradView`s stay valid).
 * Backward runs with grad mode off, inside a tidy scope that frees every temporary gradient.
 */
import type { Tensor } from '../tensor.js';
import { isFloat } from '../dtype.js';
import { fmtShape, sameShape } from '../shape.js';
import { tidy, untracked } from '../memory.js';
import { isGradEnabled, noGrad } from './grad-mode.js';
import { gradRule } from './grad-table.js';
import type { GradCtx, Node } from './node.js';
import { addInto, cloneContiguous, castTo, onesLike } from './tape-helpers.js';

let seq = 0;

/**
 * Records an op application on the tape when grad mode is on and any input requires grad.
 * @param saved - extra tensors the rule needs (aliased; the caller may dispose the originals)
 */
export function record(
  op: string,
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  attrs: Record<string, any> = {},
  saved: readonly Tensor[] = [],
): void {
  if (!isGradEnabled()) return;
  let any = false;
  const needs = new Array<boolean>(inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    needs[i] = inputs[i].requiresGrad;
    any ||= needs[i];
  }
  if (!any) return;
  const node: Node = {
    op,
    sources: inputs.slice(),
    inputShapes: inputs.map((t) => t.shape),
    inputDtypes: inputs.map((t) => t.dtype),
    outputShapes: outputs.map((t) => t.shape),
    outputDtypes: outputs.map((t) => t.dtype),
    ctx: {
      op,
      inputs: inputs.map((t) => t.alias()),
      outputs: outputs.map((t) => t.alias()),
      saved: saved.map((t) => t.alias()),
      attrs,
      needsInputGrad: needs,
    },
    seq: seq++,
    released: false,
  };
  for (let i = 0; i < outputs.length; i++) {
    if (!isFloat(outputs[i].dtype)) continue;
    outputs[i].node = node;
    outputs[i].outputIndex = i;
  }
}

/** Options of `backward`. */
export interface BackwardOptions {
  /** Keep the graph so backward can run through it again (default false). */
  retainGraph?: boolean;
  /**
   * Only these leaves receive gradients (like torch.autograd.backward's `inputs`): the walk skips
   * every op from which none of them can be reached, and no other leaf's `grad` changes. An op
   * that is walked still computes the gradients of all its inputs (its rule sees the usual
   * `needsInputGrad`). Default: every leaf that requires grad.
   */
  inputs?: readonly Tensor[];
}

/** The nodes (of `nodes`, root first) from which a leaf in `targets` can be reached. */
function nodesReaching(nodes: readonly Node[], targets: ReadonlySet<Tensor>): Set<Node> {
  const reach = new Set<Node>();
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    // sources come from nodes with smaller seq, i.e. later in `nodes`: already decided
    if (
      n.sources.some(
        (s, j) => n.ctx.needsInputGrad[j] && (s.node === null ? targets.has(s) : reach.has(s.node)),
      )
    )
      reach.add(n);
  }
  return reach;
}

function checkInputs(inputs: readonly Tensor[]): Set<Tensor> {
  for (const t of inputs) {
    t.assertLive('backward({ inputs })');
    if (t.node !== null || !t.requiresGrad)
      throw new Error(
        `backward: inputs must be leaf tensors that require grad; got a tensor ${fmtShape(t.shape)} that ${t.node !== null ? 'was computed by an op' : 'does not require grad'}`,
      );
  }
  return new Set(inputs);
}

function collectNodes(root: Node): Node[] {
  const seen = new Set<Node>([root]);
  const stack = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.released) {
      throw new Error(
        `backward: the graph through op '${n.op}' was already freed by an earlier backward; ` +
          'pass { retainGraph: true } to the first backward to run it twice',
      );
    }
    for (const s of n.sources) {
      if (s.node !== null && !seen.has(s.node)) {
        seen.add(s.node);
        stack.push(s.node);
      }
    }
  }
  return [...seen].sort((a, b) => b.seq - a.seq);
}

function checkVersions(node: Node): void {
  for (const list of [node.ctx.inputs, node.ctx.outputs, node.ctx.saved]) {
    for (const t of list) {
      if (t.storage.version !== t.savedVersion) {
        throw new Error(
          `backward: a tensor ${fmtShape(t.shape)} saved by op '${node.op}' was modified in place ` +
            '(fill_/zero_/copy_) after it was used; clone it before writing, or write under a fresh graph',
        );
      }
    }
  }
}

function accumulateLeaf(leaf: Tensor, g: Tensor): void {
  if (leaf.grad !== null && !leaf.grad.isDisposed && sameShape(leaf.grad.shape, leaf.shape)) {
    addInto(leaf.grad, g);
  } else {
    leaf.grad = untracked(() => cloneContiguous(g, leaf.dtype));
  }
}

/**
 * Reverse-mode differentiation from `root`: accumulates d(root)/d(leaf) (times `grad`) into
 * every leaf that requires grad.
 * @param grad - gradient of the root; may be omitted only for single-element roots
 */
export function runBackward(root: Tensor, grad?: Tensor, opts: BackwardOptions = {}): void {
  root.assertLive('backward');
  if (!isFloat(root.dtype)) {
    throw new TypeError(
      `backward: cannot backpropagate through an ${root.dtype} tensor (only float tensors have gradients)`,
    );
  }
  if (!root.requiresGrad) {
    throw new Error(
      'backward: tensor does not require grad (no input had requiresGrad, or it was computed under noGrad)',
    );
  }
  if (grad === undefined && root.numel !== 1) {
    throw new Error(
      `backward: grad can be omitted only for single-element outputs, got shape ${fmtShape(root.shape)}; pass a gradient of that shape`,
    );
  }
  const targets = opts.inputs === undefined ? null : checkInputs(opts.inputs);
  if (grad !== undefined) {
    grad.assertLive('backward(grad)');
    if (!sameShape(grad.shape, root.shape)) {
      throw new RangeError(
        `backward: gradient shape ${fmtShape(grad.shape)} does not match output shape ${fmtShape(root.shape)}`,
      );
    }
  }
  noGrad(() =>
    tidy(() => {
      const seed = grad === undefined ? onesLike(root) : castTo(grad, root.dtype);
      if (root.node === null) {
        if (targets === null || targets.has(root)) accumulateLeaf(root, seed);
        return;
      }
      const nodes = collectNodes(root.node);
      const walked = targets === null ? null : nodesReaching(nodes, targets);
      const grads = new Map<Node, (Tensor | null)[]>();
      // Gradients are freed as soon as no pending slot holds them (only tensors this backward
      // created: ids >= firstId), so peak memory tracks the live frontier, not the whole graph.
      const firstId = seed.id;
      const held = new Map<Tensor, number>();
      const hold = (t: Tensor) => held.set(t, (held.get(t) ?? 0) + 1);
      const unhold = (t: Tensor) => {
        const c = (held.get(t) ?? 1) - 1;
        if (c > 0) held.set(t, c);
        else {
          held.delete(t);
          if (t.id >= firstId) t.dispose();
        }
      };
      const init = new Array<Tensor | null>(root.node.outputShapes.length).fill(null);
      init[root.outputIndex] = seed;
      hold(seed);
      grads.set(root.node, init);
      for (const node of nodes) {
        const gOut = grads.get(node);
        grads.delete(node);
        if (gOut === undefined || gOut.every((g) => g === null)) continue;
        if (walked !== null && !walked.has(node)) {
          for (const g of gOut) if (g !== null) unhold(g);
          continue; // no target below this op
        }
        // the rule's temporaries are freed right away; its results move to this scope
        checkVersions(node);
        const ctx = walked === null ? node.ctx : passCtx(node, walked, targets!);
        const gIn = tidy(() => gradRule(node.op)(ctx, gOut));
        if (gIn.length !== node.sources.length) {
          throw new Error(
            `backward of '${node.op}' returned ${gIn.length} gradients for ${node.sources.length} inputs`,
          );
        }
        const used: Tensor[] = [];
        for (let i = 0; i < node.sources.length; i++) {
          const src = node.sources[i];
          let g = gIn[i];
          if (g === null || g === undefined || !node.ctx.needsInputGrad[i]) continue;
          if (walked !== null && (src.node === null ? !targets!.has(src) : !walked.has(src.node))) continue;
          if (!sameShape(g.shape, node.inputShapes[i])) {
            throw new Error(
              `backward of '${node.op}': gradient for input ${i} has shape ${fmtShape(g.shape)}, expected ${fmtShape(node.inputShapes[i])}`,
            );
          }
          if (g.dtype !== node.inputDtypes[i]) {
            used.push(g);
            g = castTo(g, src.dtype);
          }
          used.push(g);
          if (src.node === null) {
            accumulateLeaf(src, g);
          } else {
            let slot = grads.get(src.node);
            if (slot === undefined) {
              slot = new Array<Tensor | null>(src.node.outputShapes.length).fill(null);
              grads.set(src.node, slot);
            }
            const prev = slot[src.outputIndex];
            const next = prev === null ? g : addSame(prev, g);
            slot[src.outputIndex] = next;
            hold(next);
            if (prev !== null) unhold(prev);
          }
        }
        for (const g of gOut) if (g !== null) unhold(g);
        // results that went only into leaves (accumulated by copy) or nowhere are done too
        for (const g of [...used, ...gIn]) {
          if (g !== null && g !== undefined && !held.has(g) && g.id >= firstId) g.dispose();
        }
        if (!opts.retainGraph) {
          node.released = true;
          node.sources = [];
          for (const list of [node.ctx.inputs, node.ctx.outputs, node.ctx.saved])
            for (const t of list) t.releaseAlias();
          node.ctx = { ...node.ctx, inputs: [], outputs: [], saved: [] };
        }
      }
    }),
  );
}

/**
 * The node's ctx for a backward restricted to `targets` (`backward({ inputs })`): an input whose
 * gradient reaches no target is marked as not needing one, so rules that check
 * `ctx.needsInputGrad` skip it (a matmul on the way to a probe computes no weight gradient).
 */
function passCtx(node: Node, walked: ReadonlySet<Node>, targets: ReadonlySet<Tensor>): GradCtx {
  const need = node.ctx.needsInputGrad;
  let changed = false;
  const pass = need.map((n, i) => {
    const src = node.sources[i]!;
    const reaches = n && (src.node === null ? targets.has(src) : walked.has(src.node));
    if (reaches !== n) changed = true;
    return reaches;
  });
  return changed ? { ...node.ctx, needsInputGrad: pass } : node.ctx;
}

function addSame(a: Tensor, b: Tensor): Tensor {
  return cloneContiguousSum(a, b);
}

function cloneContiguousSum(a: Tensor, b: Tensor): Tensor {
  const out = cloneContiguous(a, a.dtype);
  addInto(out, b);
  return out;
}
