/**
 * `Module`: the base class of every layer. It registers parameters, buffers and child modules
 * by name, walks them (`namedParameters`, `parameters`, `modules`), switches train/eval mode,
 * saves and loads state dicts with strict key and shape checks, converts dtype (`to`), and
 * disposes everything it owns.
 *
 * Names in a state dict are dotted paths: `fc1.weight`, `blocks.0.norm.weight`.
 */
import { copy_, isGradEnabled, noGrad, Tensor } from './core.js';
import type { DType } from '../dtype.js';
import type { Device } from '../device.js';

/** Options of `loadStateDict`. */
export interface LoadStateDictOptions {
  /** Throw on missing or unexpected keys (default true). Shape mismatches always throw. */
  strict?: boolean;
}

/** What `loadStateDict` did not match (empty lists when strict). */
export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

const fmt = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

function checkName(kind: string, name: string): void {
  if (name === '' || name.includes('.')) {
    throw new Error(`${kind} name ${JSON.stringify(name)} must be non-empty and contain no '.'`);
  }
}

export abstract class Module {
  /** True in training mode (dropout active); flip with `train()` / `eval()`. */
  training = true;
  private readonly _parameters = new Map<string, Tensor>();
  private readonly _buffers = new Map<string, Tensor>();
  private readonly _modules = new Map<string, Module>();

  /** The layer's computation; subclasses define its arguments and result. */
  abstract forward(...args: any[]): any;

  /**
   * Registers a trainable tensor under `name` (turns on `requiresGrad`) and returns it.
   * @param name - a plain name (no dots), unique within this module
   */
  protected registerParameter(name: string, t: Tensor): Tensor {
    checkName('parameter', name);
    this.checkFree(name);
    if (!(t instanceof Tensor))
      throw new TypeError(`${this.constructor.name}: parameter '${name}' is not a Tensor`);
    if (!t.isLeaf) {
      throw new Error(`${this.constructor.name}: parameter '${name}' must be a leaf tensor; pass t.detach()`);
    }
    t.requiresGrad = true;
    this._parameters.set(name, t);
    return t;
  }

  /** Registers a non-trainable tensor saved in the state dict (running statistics, masks). */
  protected registerBuffer(name: string, t: Tensor): Tensor {
    checkName('buffer', name);
    this.checkFree(name);
    this._buffers.set(name, t);
    return t;
  }

  /** Registers a child module under `name` and returns it. */
  protected registerModule<M extends Module>(name: string, m: M): M {
    checkName('module', name);
    this.checkFree(name);
    if (!(m instanceof Module)) throw new TypeError(`registerModule: '${name}' is not a Module`);
    this._modules.set(name, m);
    return m;
  }

  /**
   * Replaces the parameter registered as `name` (and the field of that name, if it held the
   * old tensor) with `t`; e.g. weight tying: `head.replaceParameter('weight', embed.weight)`.
   * The old tensor is not disposed (it may be shared).
   * @throws when no parameter `name` exists or the shapes differ
   */
  replaceParameter(name: string, t: Tensor): Tensor {
    const old = this._parameters.get(name);
    if (old === undefined) throw new Error(`${this.constructor.name}: no parameter '${name}' to replace`);
    if (old.shape.length !== t.shape.length || old.shape.some((d, i) => d !== t.shape[i])) {
      throw new Error(
        `${this.constructor.name}.replaceParameter: '${name}' is ${fmt(old.shape)}, got ${fmt(t.shape)}`,
      );
    }
    t.requiresGrad = true;
    this._parameters.set(name, t);
    const fields = this as unknown as Record<string, unknown>;
    if (fields[name] === old) fields[name] = t;
    return t;
  }

  private checkFree(name: string): void {
    if (this._parameters.has(name) || this._buffers.has(name) || this._modules.has(name)) {
      throw new Error(`${this.constructor.name}: '${name}' is already registered`);
    }
  }

  /** Direct children by name. */
  namedChildren(): [string, Module][] {
    return [...this._modules];
  }

  /** Direct children. */
  children(): Module[] {
    return [...this._modules.values()];
  }

  /** This module and every descendant, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, m] of this._modules) out.push(...m.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  /** This module and every descendant. */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  private namedTensors(kind: '_parameters' | '_buffers'): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, t] of m[kind]) {
        if (seen.has(t)) continue; // shared (tied) tensors are listed once
        seen.add(t);
        out.push([prefix ? `${prefix}.${name}` : name, t]);
      }
    }
    return out;
  }

  /** Every parameter with its dotted name (tied parameters once, under their first name). */
  namedParameters(): [string, Tensor][] {
    return this.namedTensors('_parameters');
  }

  /** Every parameter (what an optimizer updates). */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Every buffer with its dotted name. */
  namedBuffers(): [string, Tensor][] {
    return this.namedTensors('_buffers');
  }

  /** Total number of parameter elements. */
  numParameters(): number {
    return this.parameters().reduce((s, p) => s + p.numel, 0);
  }

  /** Sets training mode on this module and every descendant; returns this. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Sets evaluation mode (`train(false)`); returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Drops every parameter's gradient (disposing it). */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /**
   * Parameters and buffers by dotted name. The values are the module's own live tensors
   * (no copies): don't dispose them; `io.save(path, m.stateDict())` writes them.
   */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, t] of [...this.namedParameters(), ...this.namedBuffers()]) out[name] = t;
    return out;
  }

  /**
   * Copies values into this module's parameters and buffers (converting dtype). Every key and
   * shape is checked before anything is written, so a failed load changes nothing.
   * @param state - dotted name -> tensor, e.g. from `stateDict()` or `io.load(path)`
   * @throws on a shape mismatch (naming the key and both shapes), and when `strict` (the
   *   default) on missing or unexpected keys (naming them)
   */
  loadStateDict(
    state: Readonly<Record<string, Tensor>>,
    options: LoadStateDictOptions = {},
  ): LoadStateDictResult {
    const strict = options.strict ?? true;
    const own = this.stateDict();
    // own-property checks: 'constructor', 'toString', ... are not keys of a plain object
    const missingKeys = Object.keys(own).filter((k) => !Object.hasOwn(state, k));
    const unexpectedKeys = Object.keys(state).filter((k) => !Object.hasOwn(own, k));
    if (strict && (missingKeys.length > 0 || unexpectedKeys.length > 0)) {
      const parts: string[] = [];
      if (missingKeys.length) parts.push(`missing key(s) ${missingKeys.map((k) => `'${k}'`).join(', ')}`);
      if (unexpectedKeys.length)
        parts.push(`unexpected key(s) ${unexpectedKeys.map((k) => `'${k}'`).join(', ')}`);
      throw new Error(`loadStateDict: ${parts.join('; ')}`);
    }
    const pairs: [Tensor, Tensor][] = [];
    for (const [key, dst] of Object.entries(own)) {
      const src = Object.hasOwn(state, key) ? state[key] : undefined;
      if (src === undefined) continue;
      if (!(src instanceof Tensor)) throw new TypeError(`loadStateDict: '${key}' is not a Tensor`);
      src.assertLive(`loadStateDict '${key}'`);
      const same = src.shape.length === dst.shape.length && src.shape.every((d, i) => d === dst.shape[i]);
      if (!same) {
        throw new Error(
          `loadStateDict: '${key}' has shape ${fmt(src.shape)} in the state dict but ${fmt(dst.shape)} in the module`,
        );
      }
      pairs.push([dst, src]);
    }
    noGrad(() => {
      for (const [dst, src] of pairs) {
        const moved = src.to(dst.device); // copy_ converts the dtype
        copy_(dst, moved);
        if (moved !== src) moved.dispose();
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  /**
   * Moves every parameter and buffer to a dtype or device, replacing them with converted
   * tensors (parameters stay leaves that require grad; gradients are dropped). Returns this.
   * @param target - `'float32' | 'float64'` or a device such as `'cpu'`
   */
  to(target: DType | Device): this {
    if (isGradEnabled()) return noGrad(() => this.to(target));
    const converted = new Map<Tensor, Tensor>(); // tied tensors stay tied
    for (const m of this.modules()) {
      for (const kind of ['_parameters', '_buffers'] as const) {
        for (const [name, old] of m[kind]) {
          let fresh = converted.get(old);
          if (fresh === undefined) {
            const moved = old.to(target as never);
            if (moved === old) continue;
            fresh = kind === '_parameters' ? moved.detach() : moved;
            if (fresh !== moved) moved.dispose();
            if (kind === '_parameters') fresh.requiresGrad = true;
            converted.set(old, fresh);
          }
          m[kind].set(name, fresh);
          const fields = m as unknown as Record<string, unknown>;
          for (const key of Object.keys(m)) if (fields[key] === old) fields[key] = fresh;
        }
      }
    }
    for (const old of converted.keys()) old.dispose();
    return this;
  }

  /**
   * Frees tensors this module holds outside its parameters and buffers (fast state, caches).
   * Nothing by default; modules with such state override it. `dispose()` calls it on every
   * module of the tree.
   */
  disposeState(): void {}

  /** Disposes every parameter and buffer (and `disposeState()`) of this module and its descendants. */
  dispose(): void {
    for (const m of this.modules()) {
      m.disposeState();
      for (const t of [...m._parameters.values(), ...m._buffers.values()]) t.dispose();
    }
  }
}
