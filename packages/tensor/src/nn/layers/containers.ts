/**
 * Containers: `Sequential` (applies its modules in order) and `ModuleList` (an indexed list
 * of modules whose parameters are registered as `0.weight`, `1.weight`, ...).
 */
import type { Tensor } from '../core.js';
import { Module } from '../module.js';

/** An ordered list of modules; state-dict names are `<index>.<name>`. */
export class ModuleList<M extends Module = Module> extends Module {
  private readonly items: M[] = [];

  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.append(m);
  }

  /** Adds a module at the end and returns this. */
  append(m: M): this {
    this.items.push(this.registerModule(String(this.items.length), m));
    return this;
  }

  /** Module at `index` (negative counts from the end). */
  at(index: number): M {
    const i = index < 0 ? index + this.items.length : index;
    const m = this.items[i];
    if (m === undefined)
      throw new RangeError(`ModuleList: index ${index} out of range for ${this.items.length} modules`);
    return m;
  }

  get length(): number {
    return this.items.length;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }

  /** A ModuleList has no forward of its own; iterate it instead. */
  forward(..._args: any[]): any {
    throw new Error('ModuleList has no forward(); iterate over it and call each module');
  }
}

/** Applies its modules in order: `forward(x) = mN(...m2(m1(x)))`. */
export class Sequential extends ModuleList<Module> {
  constructor(...modules: Module[]) {
    super(modules);
  }

  /** x -> the last module's output */
  override forward(x: Tensor): Tensor {
    let y: unknown = x;
    for (const m of this) y = m.forward(y);
    return y as Tensor;
  }
}
