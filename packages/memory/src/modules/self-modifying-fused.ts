/**
 * SelfModifyingTitans `impl: 'fused'`: the whole call in one native op (kernels/self-mod: C++
 * forward and hand-written backward, threaded over batch × heads), registered through defineOp as
 * the 'cpu' kernels `memory.selfModifyingTitans.forward` / `.backward` (they also run on 'sim').
 * Same maths and state format as the token loop (self-modifying.ts). Op inputs: x, q [B, T, H, D]
 * and the carried states of all memories stacked on axis 1 (w1, s1, a1 [B, M, H, D, Dh]; w2, s2,
 * a2 [B, M, H, Dh, D]), then optionally xv [B, T, H, D] (a separate value input: generator v reads it
 * instead of x; 'cpu' kernels only, the 'cuda' ones refuse it); outputs o [B, T, H, D] and the final
 * states (same shapes). attrs.innerGradClip > 0 (the per-token inner-gradient clip): 'cpu' and
 * 'cuda' kernels. The backward gives x, q, every carried state (hence, through expand, every
 * memory's init) and xv a gradient.
 * When gradients are needed the forward keeps its block-start states (up to KEEP_BYTES) so the
 * backward skips recomputing them.
 */
import {
  add,
  defineOp,
  isGradEnabled,
  matmul,
  select,
  silu,
  stack,
  transpose,
  zeros,
  type Tensor,
} from '@nl/tensor';
import { elementsOf, emptyTensor } from '@nl/tensor/internal';
import { allocLike } from '../kernels/alloc.js';
import {
  SELF_MOD_STATES,
  selfModBackward,
  selfModCkptSize,
  selfModBlocks,
  selfModForward,
  type SelfModAlloc,
  type SelfModOptions,
} from '../kernels/self-mod/native.js';
import type { FloatArray } from '../kernels/shape.js';
import type { ChunkedArgs, ChunkMemState } from './self-modifying-chunked.js';
import { selfModOpBlock } from './self-modifying-block.js';
import './self-modifying-cuda.js';

/** Attributes of the fused op: the kernel options less the sizes, which are read from the inputs. */
export interface FusedSelfModAttrs
  extends Omit<SelfModOptions, 'batch' | 'seqLen' | 'heads' | 'dim' | 'hidden'>,
    Record<string, unknown> {
  /** Keep the block-start states for the backward (set when autograd will record the op). */
  keep?: boolean;
}

const ORDER = ['k', 'v', 'eta', 'alpha', 'mem', 'q'];
/** Largest block-start state kept from forward to backward (else the backward recomputes it). */
const KEEP_BYTES = 256 * 2 ** 20;
/** Opens a tensor inside the kernel (row-major elements, no transfer). */
const arr = (t: Tensor): FloatArray => elementsOf(t) as FloatArray;

/**
 * Runs `call` with an allocator of output tensors like `like` (dtype, device) from the backend's
 * buffer pool, not zeroed (the kernels write every element; fresh arrays per call cost garbage
 * collections, and these go back to the pool when disposed); returns its result and the tensors
 * in allocation order. If `call` throws, the tensors are disposed.
 */
function withOutputs<R>(like: Tensor, call: (alloc: SelfModAlloc<FloatArray>) => R): [R, Tensor[]] {
  const made: Tensor[] = [];
  const alloc = (shape: readonly number[]): FloatArray => {
    const t = emptyTensor(shape, like.dtype, like.device, false);
    made.push(t);
    return arr(t);
  };
  try {
    return [call(alloc), made];
  } catch (e) {
    for (const t of made) t.dispose();
    throw e;
  }
}

function options(inputs: readonly Tensor[], a: FusedSelfModAttrs): SelfModOptions {
  const [batch, seqLen, heads, dim] = inputs[0]!.shape as [number, number, number, number];
  const block = selfModOpBlock(seqLen, a);
  return { ...a, batch, seqLen, heads, dim, hidden: inputs[2]!.shape[4]!, block };
}

/** Op inputs: x, q, the six stacked states, then the optional value input. */
const XV_INPUT = 8;
const valueInput = (ins: readonly Tensor[]): FloatArray | undefined =>
  ins.length > XV_INPUT ? arr(ins[XV_INPUT]!) : undefined;

const states = (ins: readonly Tensor[]) =>
  Object.fromEntries(SELF_MOD_STATES.map((s, i) => [s, arr(ins[2 + i]!)])) as Record<
    (typeof SELF_MOD_STATES)[number],
    FloatArray
  >;

const op = defineOp<FusedSelfModAttrs>({
  name: 'memory.selfModifyingTitans',
  forward: {
    cpu(ctx, inputs, attrs) {
      const o = options(inputs, attrs);
      const bytes = selfModCkptSize(o) * (inputs[0]!.dtype === 'float64' ? 8 : 4);
      // one block: its start state is the call's initial state, which the backward reads anyway
      const keep =
        attrs.keep === true &&
        ctx.needsInputGrad.some(Boolean) &&
        bytes <= KEEP_BYTES &&
        selfModBlocks(o) > 1;
      const [, outs] = withOutputs(inputs[0]!, (alloc) =>
        selfModForward(arr(inputs[0]!), arr(inputs[1]!), states(inputs), o, keep, alloc, valueInput(inputs)),
      );
      if (keep) ctx.save(outs.pop()!); // the block-start states, allocated last
      return outs; // o, then the final states in SELF_MOD_STATES order
    },
  },
  backward: {
    cpu(ctx, grads) {
      const ins = ctx.inputs;
      const x = arr(ins[0]!);
      const dO = grads[0] ? arr(grads[0]) : allocLike(x, x.length);
      const dState: Partial<Record<(typeof SELF_MOD_STATES)[number], FloatArray>> = {};
      SELF_MOD_STATES.forEach((s, i) => {
        const g = grads[1 + i];
        if (g) dState[s] = arr(g);
      });
      const ckpt = ctx.saved.length > 0 ? arr(ctx.saved[0]!) : undefined;
      const opts = options(ins, ctx.attrs);
      const [, outs] = withOutputs(ins[0]!, (alloc) =>
        selfModBackward(x, arr(ins[1]!), states(ins), dO, dState, opts, ckpt, alloc, valueInput(ins)),
      ); // dx, dq, then the initial-state gradients in SELF_MOD_STATES order, then dxv (with xv)
      if (!ctx.attrs.adaptiveQ) return outs;
      outs[1]!.dispose(); // q is unused with adaptiveQ
      return outs.map((t, i) => (i === 1 ? null : t));
    },
  },
});

/**
 * Runs the op: x, q [B, T, H, D], stacked states (and the optional value input xv [B, T, H, D]) →
 * o and the stacked final states.
 */
export function fusedSelfMod(
  x: Tensor,
  q: Tensor,
  st: Tensor[],
  attrs: FusedSelfModAttrs,
  xv?: Tensor,
): Tensor[] {
  return op(xv === undefined ? [x, q, ...st] : [x, q, ...st, xv], attrs) as Tensor[];
}

const mT = (t: Tensor): Tensor => transpose(t, -2, -1);
/** z + W1 σ(W2 z) on rows: z [B, T, H, D], w1 [B, H, D, Dh], w2 [B, H, Dh, D] (heads moved to axis 1). */
function mlpRows(w1: Tensor, w2: Tensor, z: Tensor): Tensor {
  const zh = transpose(z, 1, 2); // [B, H, T, D]
  return transpose(add(zh, matmul(silu(matmul(zh, mT(w2))), mT(w1))), 1, 2).contiguous();
}

/**
 * The fused state of a call: the six tensors of `SELF_MOD_STATES`, every memory stacked on axis 1
 * (w1, s1, a1 [B, M, H, D, Dh]; w2, s2, a2 [B, M, H, Dh, D]; memories in the `names` order). The
 * module carries it as is from call to call, so no call stacks or splits its memories.
 */
export type StackedSelfModState = Tensor[];

/** Arguments of `selfModFused`: the chunked impl's, with the state stacked. */
export interface FusedArgs extends Omit<ChunkedArgs, 'state'> {
  state: StackedSelfModState;
  /** Chunk ("dual") form (default true) or token by token (false); see SelfModOptions.dual. */
  dual?: boolean;
}

/** Memory `i` of a stacked state: w1, w2, s1, s2, a1, a2 [B, H, …] (views). */
export function memoryOf(st: StackedSelfModState, i: number): ChunkMemState {
  const m = {} as ChunkMemState;
  SELF_MOD_STATES.forEach((s, j) => (m[s] = select(st[j]!, 1, i)));
  return m;
}

/** Per-memory states (in `names` order) stacked on axis 1: → [B, M, H, …] each. */
export function stackMemories(
  names: readonly string[],
  state: Record<string, ChunkMemState>,
): StackedSelfModState {
  return SELF_MOD_STATES.map((s) =>
    stack(
      names.map((n) => state[n]![s]),
      1,
    ),
  );
}

/** The fused forward of a SelfModifyingTitans call on the stacked state; returns the final state. */
export function selfModFused(a: FusedArgs): { out: Tensor; state: StackedSelfModState } {
  const [b, T, h, d] = a.x.shape as [number, number, number, number];
  const dtype = a.x.dtype as 'float32' | 'float64';
  if (T === 0) return { out: zeros([b, 0, h, d], { dtype, device: a.x.device }), state: a.state };
  if (a.frozen) {
    const q = a.adaptiveQ ? memoryOf(a.state, a.names.indexOf('q')) : null;
    const mem = memoryOf(a.state, a.names.indexOf('mem'));
    const qq = q ? mlpRows(q.a1, q.a2, a.x) : a.q;
    return { out: mlpRows(mem.w1, mem.w2, qq), state: a.state };
  }
  a.names.forEach((n, i) => {
    if (ORDER[i] !== n)
      throw new Error(`SelfModifyingTitans fused: memory ${i} is ${n}, expected ${ORDER[i]}`);
  });
  const [out, ...fin] = fusedSelfMod(
    a.x,
    a.q,
    a.state,
    {
      tokens: a.tokens,
      chunkMem: a.chunkMem,
      chunkOther: a.chunkOther,
      momentum: a.momentum,
      alphaBias: a.alphaBias,
      etaBias: a.etaBias,
      adaptiveQ: a.adaptiveQ,
      readSnapshot: a.readSnapshot,
      dual: a.dual ?? true,
      innerGradClip: a.innerGradClip ?? 0,
      keep: isGradEnabled(),
    },
    a.xv,
  );
  return { out: out!, state: fin };
}
