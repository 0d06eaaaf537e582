/**
 * Custom ops: other packages register a fused forward (e.g. a native kernel) with its own backward.
 *
 *   const op = defineOp({
 *     name: 'memory.deltaRule',
 *     forward: { cpu(ctx, [q, k, v], attrs) { ...; ctx.save(state); return [o, state]; } },
 *     backward: { cpu(ctx, [gO, gState]) { const [state] = ctx.saved; ...; return [gQ, gK, gV]; } },
 *   });
 *   const [o, s] = op([q, k, v], { chunkSize: 64 }) as Tensor[];
 *
 * `forward` / `backward` are either one function composed of tensor ops (runs on every device) or
 * one implementation per backend, like candle's CustomOp `cpu_fwd` / `cuda_fwd`. Per-backend
 * implementations live in the kernel registry as `<name>.forward` / `<name>.backward`, so a CUDA
 * backend adds its own with `registerKernel('<name>.forward', 'cuda', fn)`; they run inside a
 * kernel scope (host implementations may open buffers: `elementsOf`, `adoptOutput` from
 * `@nl/tensor/internal`). A device with neither throws "<name>.forward: no kernel for device 'x'".
 *
 * forward runs with grad mode off inside a tidy scope (temporaries it does not return are freed;
 * saved tensors stay readable); the op is recorded when any input requires grad. backward runs with
 * grad mode off and returns one gradient (or null) per input, each of that input's shape.
 */
import { Tensor } from '../tensor.js';
import { tidy } from '../memory.js';
import { noGrad } from './grad-mode.js';
import { defineGrad } from './grad-table.js';
import { record } from './tape.js';
import type { GradCtx } from './node.js';
import { checkOperands, makeView } from '../ops/helpers.js';
import { registerKernel, runKernel } from '../backend/registry.js';

/** What forward sees. */
export interface ForwardCtx<A> {
  /** Keeps tensors for backward (readable there as `ctx.saved`, in order). */
  save(...tensors: Tensor[]): void;
  /** The attrs passed to the op (forward may add fields for backward). */
  attrs: A;
  /** Which inputs require grad. */
  readonly needsInputGrad: readonly boolean[];
}

/** What backward sees. */
export interface BackwardCtx<A> extends Omit<GradCtx, 'attrs'> {
  readonly attrs: A;
}

/** A forward implementation. */
export type ForwardFn<A> = (ctx: ForwardCtx<A>, inputs: Tensor[], attrs: A) => Tensor | Tensor[];
/** A backward implementation: one gradient (or null) per input. */
export type BackwardFn<A> = (ctx: BackwardCtx<A>, gradOutputs: (Tensor | null)[]) => (Tensor | null)[];
/** One function for every device, or one per backend ('cpu', 'cuda'; 'sim' runs 'cpu'). */
export type PerBackend<F> = F | { readonly [backend: string]: F };

/** A custom op definition. */
export interface OpDefinition<A extends Record<string, any>> {
  /** Unique name (the key of its rule in the grad table); defining it twice throws. */
  name: string;
  forward: PerBackend<ForwardFn<A>>;
  backward: PerBackend<BackwardFn<A>>;
}

/** A function, or a dispatcher over the implementations registered as `key` per backend. */
function dispatcher<F extends (...args: any[]) => any>(
  key: string,
  impl: PerBackend<F>,
): (device: string, ...args: Parameters<F>) => ReturnType<F> {
  if (typeof impl === 'function') return (_device, ...args) => impl(...args);
  if (impl === null || typeof impl !== 'object' || Object.keys(impl).length === 0)
    throw new TypeError(`defineOp: ${key} must be a function or an object of per-backend functions`);
  for (const [backend, fn] of Object.entries(impl)) {
    if (typeof fn !== 'function') throw new TypeError(`defineOp: ${key}.${backend} must be a function`);
    registerKernel(key, backend, fn);
  }
  return (device, ...args) => runKernel<F>(key, device, ...args);
}

/** Alias of `OpDefinition`. */
export type OpSpec<A extends Record<string, any> = Record<string, any>> = OpDefinition<A>;

/** The callable returned by `defineOp`: a Tensor when forward returns one, else an array. */
export type CustomOp<A> = (inputs: Tensor[], attrs?: A) => Tensor | Tensor[];

/** Registers a custom op with its backward; returns the function that applies it. */
export function defineOp<A extends Record<string, any> = Record<string, any>>(
  def: OpDefinition<A>,
): CustomOp<A> {
  if (typeof def.name !== 'string' || def.name.length === 0)
    throw new TypeError('defineOp: name must be a non-empty string');
  const isImpl = (f: unknown) => typeof f === 'function' || (f !== null && typeof f === 'object');
  if (!isImpl(def.forward) || !isImpl(def.backward)) {
    throw new TypeError(
      `defineOp('${def.name}'): forward and backward must be functions or per-backend objects of functions`,
    );
  }
  const forward = dispatcher<ForwardFn<A>>(`${def.name}.forward`, def.forward);
  const backward = dispatcher<BackwardFn<A>>(`${def.name}.backward`, def.backward);
  defineGrad(def.name, (ctx, grads) => {
    const device = ctx.inputs.length > 0 ? ctx.inputs[0].device : 'cpu';
    return backward(device, ctx as BackwardCtx<A>, grads);
  });
  return (inputs: Tensor[], attrs?: A) => {
    if (!Array.isArray(inputs)) throw new TypeError(`${def.name}: inputs must be an array of tensors`);
    if (inputs.length > 0) checkOperands(def.name, ...inputs);
    const saved: Tensor[] = [];
    const a = { ...(attrs ?? {}) } as A;
    const ctx: ForwardCtx<A> = {
      save: (...ts: Tensor[]) => {
        for (const t of ts) {
          if (!(t instanceof Tensor)) throw new TypeError(`${def.name}: ctx.save expects tensors`);
          saved.push(t.alias());
        }
      },
      attrs: a,
      needsInputGrad: inputs.map((t) => t.requiresGrad),
    };
    const device = inputs.length > 0 ? inputs[0].device : 'cpu';
    // the aliases in `saved` keep what forward saved alive past its tidy until record() has taken
    // its own; they are released here in every case, so a saved buffer goes back to the pool once
    // the node's backward has run (not when the garbage collector finds it)
    try {
      const result = noGrad(() => tidy(() => forward(device, ctx, inputs, a)));
      const single = !Array.isArray(result);
      const outs = (single ? [result] : result).map((o, i) => {
        if (!(o instanceof Tensor)) throw new TypeError(`${def.name}: forward output ${i} is not a Tensor`);
        // an output that is an input (or a leaf with grad) must not be overwritten with this node
        return inputs.includes(o) || o.node !== null ? makeView(o, o.shape, o.strides, o.offset) : o;
      });
      record(def.name, inputs, outs, a, saved);
      return single ? outs[0] : outs;
    } finally {
      for (const t of saved) t.releaseAlias();
    }
  };
}
