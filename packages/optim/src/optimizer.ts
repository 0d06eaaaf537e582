/**
 * The Optimizer contract shared by every algorithm (torch/optim's shape): param groups with
 * per-group options (changeable between steps), per-parameter state of typed arrays and numbers,
 * step / zeroGrad, and an exact JSON-serialisable stateDict / loadStateDict.
 *
 * Two paths, chosen per group: a group of @nl/tensor Tensors is stepped on its device by the
 * `optim.*` kernels of the tensor kernel registry (`stepDeviceGroup`; state is tensors on that
 * device; nothing is read back to the host), a group of plain ParamLike arrays by the pure
 * update functions on the live views (`stepGroup`, unchanged).
 */
import { zero_, type Device, type Tensor } from '@nl/tensor';
import { checkParam, type ParamLike } from './param.js';
import { type EncodedValue, type StateValue } from './serialize.js';
import {
  checkTensorParam,
  decodeState,
  disposeState,
  encodeState,
  groupDevice,
  isTensorParam,
} from './device.js';

/** A group as given to a constructor: params plus any option overrides. */
export type GroupInput<O> = Partial<O> & { params: readonly ParamLike[] };
/** A live group: every option resolved; edit its fields between steps to change them. */
export type ParamGroup<O> = O & { params: ParamLike[] };
/**
 * Per-parameter state, owned by the optimizer: named arrays and numbers. For plain ParamLike
 * parameters the arrays are host typed arrays; for Tensor parameters they are tensors on the
 * parameter's device (numbers such as step counts stay host numbers).
 */
export type ParamState = Record<string, StateValue | Tensor>;

/** The serialisable form of an optimizer's state (JSON.stringify / JSON.parse round-trips it). */
export interface StateDict {
  /** State keyed by parameter index (order of params across groups). */
  state: Record<string, Record<string, EncodedValue>>;
  /** Group options (functions left out) with params replaced by their indices. */
  paramGroups: Array<Record<string, unknown> & { params: number[] }>;
}

/** Base class; subclasses implement `validate` and `stepParam` (or `stepGroup`). */
export abstract class Optimizer<O extends object> {
  /** The parameter groups; options may be edited between steps. */
  readonly paramGroups: ParamGroup<O>[];
  /** Per-parameter state. */
  readonly state = new Map<ParamLike, ParamState>();
  /** Name used in error messages, e.g. 'AdamW'. */
  readonly name: string;

  /**
   * @param name optimizer name for messages
   * @param params parameters, or groups `{params, ...overrides}`
   * @param defaults every option's default, already merged with constructor options
   */
  protected constructor(name: string, params: readonly ParamLike[] | readonly GroupInput<O>[], defaults: O) {
    this.name = name;
    if (!Array.isArray(params) || params.length === 0)
      throw new TypeError(`${name}: params must be a non-empty array of parameters or param groups`);
    const isGroups = params.every((p) => p && typeof p === 'object' && 'params' in p);
    const groups: readonly GroupInput<O>[] = isGroups
      ? (params as readonly GroupInput<O>[])
      : [{ params: params as readonly ParamLike[] } as GroupInput<O>];
    const seen = new Set<ParamLike>();
    this.paramGroups = groups.map((g, gi) => {
      if (!Array.isArray(g.params) || g.params.length === 0)
        throw new TypeError(`${name}: param group ${gi} has no params`);
      for (const p of g.params) {
        if (isTensorParam(p)) checkTensorParam(p, `${name}: group ${gi}`);
        else checkParam(p, `${name}: group ${gi}`);
        if (seen.has(p)) throw new Error(`${name}: a parameter appears in more than one group (group ${gi})`);
        seen.add(p);
      }
      groupDevice(`${name}: param group ${gi}`, g.params);
      const group = { ...defaults, ...g, params: [...g.params] } as ParamGroup<O>;
      this.validate(group);
      return group;
    });
  }

  /** Throws a clear error when a group's options are invalid. */
  protected abstract validate(options: O): void;

  /** Updates one parameter in place from its gradient. */
  protected abstract stepParam(
    p: ParamLike,
    grad: ParamLike['view'],
    state: ParamState,
    group: ParamGroup<O>,
  ): void;

  /** Updates every parameter of a group that has a gradient (override to fuse a group). */
  protected stepGroup(group: ParamGroup<O>): void {
    for (const p of group.params) {
      const g = p.gradView;
      if (g) this.stepParam(p, g, this.stateOf(p), group);
    }
  }

  /**
   * Updates every Tensor parameter of a group that has a gradient, on `device`, through the
   * `optim.*` kernels (override per algorithm). The default serves subclasses written for host
   * arrays: on the CPU it runs `stepGroup` on the tensors' live views; elsewhere it throws.
   */
  protected stepDeviceGroup(group: ParamGroup<O>, device: Device): void {
    if (device === 'cpu') return this.stepGroup(group);
    throw new Error(
      `${this.name}: has no device update for Tensor parameters on '${device}' (override stepDeviceGroup)`,
    );
  }

  /** The Tensor parameters of a group that have a gradient, with their gradients. */
  protected withGrads(group: ParamGroup<O>): { params: Tensor[]; grads: Tensor[] } {
    const params: Tensor[] = [],
      grads: Tensor[] = [];
    for (const p of group.params as unknown as Tensor[])
      if (p.grad) {
        params.push(p);
        grads.push(p.grad);
      }
    return { params, grads };
  }

  /** The (created on demand) state of a parameter. */
  protected stateOf(p: ParamLike): ParamState {
    let s = this.state.get(p);
    if (!s) {
      s = {};
      this.state.set(p, s);
    }
    return s;
  }

  /**
   * Performs one optimization step on every parameter with a gradient. Tensor groups run on
   * their device's kernels and read nothing back to the host.
   */
  step(): void {
    this.paramGroups.forEach((group, gi) => {
      this.validate(group);
      const device = groupDevice(`${this.name}: param group ${gi}`, group.params);
      if (device === null) this.stepGroup(group);
      else this.stepDeviceGroup(group, device);
    });
  }

  /**
   * Sets every gradient to zero in place (arrays and gradient tensors stay the same objects; a
   * Tensor's gradient is filled on its device, no transfer).
   */
  zeroGrad(): void {
    for (const group of this.paramGroups)
      for (const p of group.params) {
        if (isTensorParam(p)) {
          if (p.grad) zero_(p.grad);
        } else p.gradView?.fill(0);
      }
  }

  /** Frees the optimizer's device state tensors (the optimizer has no state afterwards). */
  dispose(): void {
    for (const s of this.state.values()) disposeState(s);
    this.state.clear();
  }

  private allParams(): ParamLike[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /**
   * Exact, JSON-serialisable snapshot of state and group options. Device state is copied to the
   * host here (one download per state tensor: an explicit save, never part of a step).
   */
  stateDict(): StateDict {
    const params = this.allParams();
    const state: StateDict['state'] = {};
    params.forEach((p, i) => {
      const s = this.state.get(p);
      if (!s) return;
      const enc: Record<string, EncodedValue> = {};
      for (const [k, v] of Object.entries(s)) enc[k] = encodeState(v);
      state[String(i)] = enc;
    });
    let next = 0;
    const paramGroups = this.paramGroups.map((g) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(g)) {
        if (k === 'params' || typeof v === 'function') continue;
        out[k] = Array.isArray(v) ? [...v] : v;
      }
      return { ...out, params: g.params.map(() => next++) };
    });
    return { state, paramGroups };
  }

  /**
   * Restores a `stateDict()` (possibly after JSON round trip); groups must match in size. The
   * dict is device-independent: state of Tensor parameters is uploaded to each parameter's
   * device (so a CPU state dict loads into an optimizer of 'sim' tensors and vice versa).
   */
  loadStateDict(sd: StateDict): void {
    if (!sd || typeof sd !== 'object' || !Array.isArray(sd.paramGroups) || typeof sd.state !== 'object')
      throw new TypeError(`${this.name}.loadStateDict: expected {state, paramGroups}`);
    if (sd.paramGroups.length !== this.paramGroups.length)
      throw new RangeError(
        `${this.name}.loadStateDict: state has ${sd.paramGroups.length} groups, optimizer has ${this.paramGroups.length}`,
      );
    sd.paramGroups.forEach((g, gi) => {
      if (!Array.isArray(g.params) || g.params.length !== this.paramGroups[gi]!.params.length)
        throw new RangeError(`${this.name}.loadStateDict: group ${gi} size does not match`);
    });
    const params = this.allParams();
    // options first (nothing changes when one is invalid), then the state (device uploads)
    const candidates = sd.paramGroups.map((g, gi) => {
      const candidate = { ...this.paramGroups[gi]! } as Record<string, unknown>;
      for (const [k, v] of Object.entries(g))
        if (k !== 'params') candidate[k] = Array.isArray(v) ? [...v] : v;
      this.validate(candidate as O);
      return candidate;
    });
    const loaded = new Map<ParamLike, ParamState>();
    try {
      for (const [key, entry] of Object.entries(sd.state)) {
        const p = params[Number(key)];
        if (!p) throw new RangeError(`${this.name}.loadStateDict: state for unknown parameter ${key}`);
        const s: ParamState = {};
        loaded.set(p, s);
        for (const [k, v] of Object.entries(entry))
          s[k] = decodeState(v, p, `${this.name}.loadStateDict: ${key}.${k}`);
      }
    } catch (e) {
      for (const s of loaded.values()) disposeState(s);
      throw e;
    }
    candidates.forEach((c, gi) => {
      const group = this.paramGroups[gi]!;
      Object.assign(group, c, { params: group.params });
    });
    this.dispose();
    for (const [p, s] of loaded) this.state.set(p, s);
  }
}

/** Validation helpers producing messages like torch's ("Invalid learning rate: -1"). */
export function checkNumber(
  name: string,
  what: string,
  v: unknown,
  { min = -Infinity, max = Infinity, minOpen = false, maxOpen = false } = {},
): void {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new TypeError(`${name}: invalid ${what}: ${String(v)} (not a finite number)`);
  if (minOpen ? v <= min : v < min)
    throw new RangeError(`${name}: invalid ${what}: ${v} (must be ${minOpen ? '>' : '>='} ${min})`);
  if (maxOpen ? v >= max : v > max)
    throw new RangeError(`${name}: invalid ${what}: ${v} (must be ${maxOpen ? '<' : '<='} ${max})`);
}

/** Checks a positive integer option. */
export function checkInt(name: string, what: string, v: unknown, min = 1): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    throw new RangeError(`${name}: invalid ${what}: ${String(v)} (must be an integer >= ${min})`);
}

/** Allocates a zero state array of the parameter's dtype. */
export function zerosLike(v: ParamLike['view']): ParamLike['view'] {
  return v instanceof Float32Array ? new Float32Array(v.length) : new Float64Array(v.length);
}
