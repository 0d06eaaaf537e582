/**
 * `MemoryModule`: the shared half of every associative memory. It holds the fast state
 * (a record of [B, H, ...] tensors written in context) apart from the meta-learned initial
 * parameters (registered `nn` parameters), validates inputs, and implements reset, snapshot /
 * restore, freeze and the read / write / forward split. Members implement `initialState` and
 * `scan` (the token-by-token recurrence on tensor ops, so autograd runs through every write).
 */
import { detach, nn, type Tensor } from '@nl/tensor';
import type { AssociativeMemory, MemoryConfig, MemoryGates, MemorySnapshot } from '../contract.js';
import { checkGates, checkKV, checkSeq } from './check.js';

/** Fast state by name; every tensor has batch as its first dim. */
export type FastState = Record<string, Tensor>;

/** What a member's scan returns: outputs [B, T, H, Dv] (when asked) and the new state. */
export interface ScanResult {
  out: Tensor | null;
  state: FastState;
}

export abstract class MemoryModule extends nn.Module implements AssociativeMemory {
  readonly heads: number;
  readonly dk: number;
  readonly dv: number;
  protected readonly dtype: 'float32' | 'float64';
  private _state: FastState | null = null;
  private _tokens = 0;
  private _frozen = false;

  protected constructor(
    protected readonly label: string,
    cfg: MemoryConfig,
  ) {
    super();
    for (const key of ['heads', 'dk', 'dv'] as const) {
      const n = cfg[key];
      if (!Number.isInteger(n) || n < 1)
        throw new Error(`${label}: ${key} must be a positive integer, got ${n}`);
    }
    this.heads = cfg.heads;
    this.dk = cfg.dk;
    this.dv = cfg.dv;
    this.dtype = cfg.dtype ?? 'float32';
  }

  /** The initial fast state for a batch of `b`, built from the meta-learned parameters. */
  protected abstract initialState(b: number): FastState;

  /**
   * Runs the recurrence over T tokens starting at global position `pos` (tokens since reset).
   * q is null for a write-only call; when `write` is false the state must not change.
   */
  protected abstract scan(
    q: Tensor | null,
    k: Tensor,
    v: Tensor,
    gates: MemoryGates,
    state: FastState,
    pos: number,
  ): ScanResult;

  /** Reads q [B, T, H, Dk] against a fixed state → [B, T, H, Dv]. */
  protected abstract readState(q: Tensor, state: FastState): Tensor;

  get frozen(): boolean {
    return this._frozen;
  }

  get tokens(): number {
    return this._tokens;
  }

  /** The current fast state (null after reset); tensors stay on the autograd graph. */
  get state(): FastState | null {
    return this._state;
  }

  private stateFor(b: number): FastState {
    const s = this._state;
    if (s === null) return this.initialState(b);
    const first = Object.values(s)[0];
    if (first !== undefined && first.shape[0] !== b) {
      throw new Error(
        `${this.label}: batch ${b} differs from the carried state's batch ${first.shape[0]}; call reset()`,
      );
    }
    return s;
  }

  /** Reads and writes a sequence; see `AssociativeMemory.forward`. */
  forward(q: Tensor, k: Tensor, v: Tensor, gates: MemoryGates = {}): Tensor {
    const [b, t] = checkKV(this.label, k, v, this.heads, this.dk, this.dv);
    const [bq, tq] = checkSeq(this.label, 'q', q, this.heads, this.dk);
    if (bq !== b || tq !== t)
      throw new Error(`${this.label}: q [B, T] = [${bq}, ${tq}] differs from k's [${b}, ${t}]`);
    checkGates(this.label, gates, b, t, this.heads);
    const state = this.stateFor(b);
    if (this._frozen) return this.readState(q, state);
    const r = this.scan(q, k, v, gates, state, this._tokens);
    this._state = r.state;
    this._tokens += t;
    return r.out!;
  }

  /** Reads without writing; see `AssociativeMemory.read`. */
  read(q: Tensor): Tensor {
    const [b] = checkSeq(this.label, 'q', q, this.heads, this.dk);
    return this.readState(q, this.stateFor(b));
  }

  /** Writes without reading; a no-op when frozen. */
  write(k: Tensor, v: Tensor, gates: MemoryGates = {}): void {
    const [b, t] = checkKV(this.label, k, v, this.heads, this.dk, this.dv);
    checkGates(this.label, gates, b, t, this.heads);
    if (this._frozen) return;
    const r = this.scan(null, k, v, gates, this.stateFor(b), this._tokens);
    this._state = r.state;
    this._tokens += t;
  }

  reset(): void {
    this._state = null;
    this._tokens = 0;
  }

  detachState(): void {
    if (this._state === null) return;
    const out: FastState = {};
    for (const [key, t] of Object.entries(this._state)) out[key] = detach(t);
    this._state = out;
  }

  snapshot(): MemorySnapshot {
    const s = this._state;
    if (s === null) return { state: null, tokens: this._tokens };
    const copy: FastState = {};
    for (const [key, t] of Object.entries(s)) copy[key] = detach(t).clone();
    return { state: copy, tokens: this._tokens };
  }

  restore(snap: MemorySnapshot): void {
    if (snap.state === null) {
      this._state = null;
    } else {
      const copy: FastState = {};
      for (const [key, t] of Object.entries(snap.state)) copy[key] = t.clone();
      this._state = copy;
    }
    this._tokens = snap.tokens;
  }

  freeze(): void {
    this._frozen = true;
  }

  unfreeze(): void {
    this._frozen = false;
  }
}
