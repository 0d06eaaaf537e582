/**
 * The Tensor class: shape, strides and offset over a shared Storage (views share it), a dtype, a
 * device, and an autograd node. Core members live here (data access, autograd flags, dispose);
 * op methods (`a.add(b)`, `a.matmul(b)`, ...) are attached in tensor-methods.ts.
 *
 * A contiguous CPU float tensor implements `ParamLike`: `t.view` is the live zero-copy typed array
 * of its elements and `t.gradView` the live view of `t.grad`.
 */
import type { DType, FloatTypedArray, TypedArray } from './dtype.js';
import { isFloat } from './dtype.js';
import type { Device } from './backend/types.js';
import { Storage } from './storage.js';
import { cpuBuffer, hostArray } from './backend/host.js';
import { insideKernel } from './backend/registry.js';
import { contiguousStrides, fmtShape, isContiguousLayout, numelOf } from './shape.js';
import { deviceStats, stats } from './memory-stats.js';
import { trackInScope, unwatchLeak, watchLeak, type LeakToken } from './memory.js';
import type { Node } from './autograd/node.js';

/** What @nl/optim updates: a live element view and the live view of its gradient. */
export interface ParamLike {
  readonly shape: readonly number[];
  readonly view: Float32Array | Float64Array;
  readonly gradView: Float32Array | Float64Array | null;
}

/** Nested arrays returned by `toArray()`. */
export type NestedArray = number | NestedArray[];

let nextId = 1;

export class Tensor implements ParamLike {
  readonly id: number;
  /** Autograd node that produced this tensor (null for leaves and untracked results). */
  node: Node | null = null;
  /** Which output of `node` this tensor is. */
  outputIndex = 0;
  private _grad: Tensor | null = null;
  /** Set by `keep()`: tidy scopes never dispose this tensor. */
  kept = false;
  private _requiresGrad = false;
  private _disposed = false;
  private readonly token: LeakToken | null;

  /**
   * Low-level constructor; use the creation functions (`tensor`, `zeros`, ...) instead.
   * @param tracked - counted in memory(), registered with the tidy scope; false for internal aliases
   */
  constructor(
    readonly storage: Storage,
    readonly shape: readonly number[],
    readonly strides: readonly number[],
    readonly offset: number,
    readonly tracked = true,
  ) {
    this.id = nextId++;
    if (tracked) {
      stats.numTensors++;
      deviceStats(storage.device).numTensors++;
      storage.retain();
      this.token = { disposed: false };
      watchLeak(this, this.token, storage.bytes);
      trackInScope(this);
    } else {
      this.token = null;
    }
  }

  /** Wraps a fresh contiguous CPU array as a tracked CPU tensor (zero-copy). */
  static fromArray(data: TypedArray, shape: readonly number[], dtype: DType): Tensor {
    return new Tensor(
      new Storage(cpuBuffer(data), data.length, dtype, 'cpu'),
      shape.slice(),
      contiguousStrides(shape),
      0,
    );
  }

  get dtype(): DType {
    return this.storage.dtype;
  }
  get device(): Device {
    return this.storage.device;
  }
  get ndim(): number {
    return this.shape.length;
  }
  get numel(): number {
    return numelOf(this.shape);
  }
  /** Size of one dim (negative dims count from the end). */
  size(dim: number): number {
    const d = dim < 0 ? dim + this.shape.length : dim;
    if (d < 0 || d >= this.shape.length)
      throw new RangeError(`size: dim ${dim} out of range for shape ${fmtShape(this.shape)}`);
    return this.shape[d];
  }
  get isContiguous(): boolean {
    return isContiguousLayout(this.shape, this.strides);
  }
  get isDisposed(): boolean {
    return this._disposed;
  }
  /** True for tensors not produced by a recorded op. */
  get isLeaf(): boolean {
    return this.node === null;
  }

  /** Whether gradients flow to/through this tensor. Settable on float leaves only. */
  get requiresGrad(): boolean {
    return this._requiresGrad || this.node !== null;
  }
  set requiresGrad(v: boolean) {
    if (this.node !== null) {
      if (v) return;
      throw new Error('requiresGrad: cannot turn off gradients of a non-leaf tensor; use detach()');
    }
    if (v && !isFloat(this.dtype)) {
      throw new TypeError(`requiresGrad: only float tensors can require gradients, got ${this.dtype}`);
    }
    this._requiresGrad = v;
  }

  /**
   * Gradient accumulated by backward (leaves that require grad only). The tensor owns its
   * gradient: assigning a new value (or null) disposes the one it replaces, and `dispose()`
   * disposes it. Use `takeGrad()` to keep the current gradient alive while detaching it.
   */
  get grad(): Tensor | null {
    return this._grad;
  }
  set grad(g: Tensor | null) {
    if (g !== null && !(g instanceof Tensor))
      throw new TypeError(`grad: expected a Tensor or null, got ${typeof g}`);
    const old = this._grad;
    this._grad = g;
    if (old !== null && old !== g) old.dispose();
  }

  /** Detaches and returns the gradient without disposing it (the caller owns it now). */
  takeGrad(): Tensor | null {
    const g = this._grad;
    this._grad = null;
    return g;
  }

  /** Throws a clear error when this tensor was disposed. */
  assertLive(where: string): void {
    if (this._disposed) {
      throw new Error(`${where}: tensor ${fmtShape(this.shape)} ${this.dtype} was used after dispose()`);
    }
  }

  /**
   * Live zero-copy view of the elements of a contiguous tensor (any dtype). On the CPU anywhere;
   * on a host-kernel device ('sim') only inside a kernel; never on a GPU.
   */
  rawView(): TypedArray {
    this.assertLive('view');
    if (this.device !== 'cpu' && !(insideKernel() && this.storage.backend.host !== undefined))
      throw new Error(
        `view: tensor is on ${this.device}; only CPU tensors expose a host view (copy with dataSync() or await data())`,
      );
    if (!this.isContiguous) {
      throw new Error(
        `view: tensor ${fmtShape(this.shape)} is not contiguous (strides [${this.strides.join(', ')}]); call .contiguous() first`,
      );
    }
    return hostArray(this.storage.buffer).subarray(this.offset, this.offset + this.numel);
  }

  /** ParamLike: live zero-copy float view of the elements (writing it changes the tensor). */
  get view(): FloatTypedArray {
    if (!isFloat(this.dtype))
      throw new TypeError(
        `view: ParamLike views are float32/float64, this tensor is ${this.dtype}; use rawView()`,
      );
    return this.rawView() as FloatTypedArray;
  }

  /** ParamLike: live view of `grad`, or null when there is no gradient yet. */
  get gradView(): FloatTypedArray | null {
    return this.grad === null ? null : this.grad.view;
  }

  /** Frees this tensor (idempotent). Its storage is released when no tracked view uses it. */
  dispose(): void {
    if (this._disposed || !this.tracked) return;
    this._disposed = true;
    this.token!.disposed = true;
    unwatchLeak(this.token!);
    stats.numTensors--;
    deviceStats(this.storage.device).numTensors--;
    this.storage.release();
    this.grad = null; // disposes it
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** An untracked alias over the same storage (used by the autograd graph to keep values). */
  alias(): Tensor {
    this.storage.retainAlias();
    const a = new Tensor(this.storage, this.shape, this.strides, this.offset, false);
    a.savedVersion = this.storage.version;
    return a;
  }

  /** Storage version when this alias was saved (see Storage.version). */
  savedVersion = 0;

  /** Releases an alias made by `alias()` (once; the storage may then be recycled). */
  releaseAlias(): void {
    if (!this.tracked && !this._disposed) {
      this._disposed = true;
      this.storage.releaseAlias();
    }
  }

  toString(): string {
    return `Tensor(${fmtShape(this.shape)}, ${this.dtype}, ${this.device}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}
