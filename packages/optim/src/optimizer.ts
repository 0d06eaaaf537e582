/**
 * The Optimizer contract shared by every algorithm (torch/optim's shape): param groups with
 * per-group options (changeable between steps), per-parameter state of typed arrays and numbers,
 * step / zeroGrad, and an exact JSON-serialisable stateDict / loadStateDict.
 */
import { checkParam, type ParamLike } from './param.js';
import { decodeValue, encodeValue, type EncodedValue, type StateValue } from './serialize.js';

/** A group as given to a constructor: params plus any option overrides. */
export type GroupInput<O> = Partial<O> & { params: readonly ParamLike[] };
/** A live group: every option resolved; edit its fields between steps to change them. */
export type ParamGroup<O> = O & { params: ParamLike[] };
/** Per-parameter state: named typed arrays and numbers, owned by the optimizer. */
export type ParamState = Record<string, StateValue>;

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
        checkParam(p, `${name}: group ${gi}`);
        if (seen.has(p)) throw new Error(`${name}: a parameter appears in more than one group (group ${gi})`);
        seen.add(p);
      }
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

  /** The (created on demand) state of a parameter. */
  protected stateOf(p: ParamLike): ParamState {
    let s = this.state.get(p);
    if (!s) {
      s = {};
      this.state.set(p, s);
    }
    return s;
  }

  /** Performs one optimization step on every parameter with a gradient. */
  step(): void {
    for (const group of this.paramGroups) {
      this.validate(group);
      this.stepGroup(group);
    }
  }

  /** Sets every gradient to zero (in place; arrays stay the same objects). */
  zeroGrad(): void {
    for (const group of this.paramGroups) for (const p of group.params) p.gradView?.fill(0);
  }

  private allParams(): ParamLike[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /** Exact, JSON-serialisable snapshot of state and group options. */
  stateDict(): StateDict {
    const params = this.allParams();
    const state: StateDict['state'] = {};
    params.forEach((p, i) => {
      const s = this.state.get(p);
      if (!s) return;
      const enc: Record<string, EncodedValue> = {};
      for (const [k, v] of Object.entries(s)) enc[k] = encodeValue(v);
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

  /** Restores a `stateDict()` (possibly after JSON round trip); groups must match in size. */
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
    const loaded = new Map<ParamLike, ParamState>();
    for (const [key, entry] of Object.entries(sd.state)) {
      const p = params[Number(key)];
      if (!p) throw new RangeError(`${this.name}.loadStateDict: state for unknown parameter ${key}`);
      const s: ParamState = {};
      for (const [k, v] of Object.entries(entry))
        s[k] = decodeValue(v, `${this.name}.loadStateDict: ${key}.${k}`);
      loaded.set(p, s);
    }
    sd.paramGroups.forEach((g, gi) => {
      const group = this.paramGroups[gi]!;
      const candidate = { ...group } as Record<string, unknown>;
      for (const [k, v] of Object.entries(g))
        if (k !== 'params') candidate[k] = Array.isArray(v) ? [...v] : v;
      this.validate(candidate as O);
      Object.assign(group, candidate, { params: group.params });
    });
    this.state.clear();
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
