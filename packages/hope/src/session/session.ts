/**
 * HopeSession: continual use of a HopeLM (architecture.md "stateful session"). The session owns a
 * fast state (memories, CMS Δ and schedule, conv caches) and a pending token:
 *
 *   feed(text | ids)   teacher-forced: every fed token whose next token is known goes through the
 *                      model with its label — memories write in context, CMS levels take their
 *                      scheduled NTP updates (the online scheme of hope-online.ts, B = 1). The last
 *                      fed token stays pending until its label arrives (next feed).
 *   loss(text)         bits/byte of `text` as the continuation of the current state, computed
 *                      exactly as `feed(text)` would (in-text learning included); state unchanged.
 *   generate(...)      plain decoding (CMS static) from a copy of the state; state unchanged.
 *   snapshot()/rollback(snap), freeze/unfreeze(name), saveState/loadState(path), reset().
 *
 * Freeze names: 'titans', 'cms', 'layers.i', 'layers.i.titans', 'layers.i.cms'. A frozen Titans
 * memory is read but not written; a frozen CMS level keeps its Δ. Flags are applied to the model's
 * modules only while the session runs it (the model stays usable for training).
 */
import { noGrad, tensor, tidy } from '@nl/tensor';
import { byteTokenizer } from '../data/tokenizer.js';
import type { HopeFastState, HopeLM } from '../models/hope.js';
import { HopeDecoder, cloneFastState, disposeFastState, keepFastState } from '../models/hope-decoder.js';
import { teacherForced } from '../models/hope-online.js';
import { generate, type GenerateOptions, type GenerateResult } from '../generate/generate.js';
import { readStateFile, writeStateFile } from './state-file.js';

/** Encodes text to ids and back (default: the byte tokenizer). */
export interface SessionTokenizer {
  encode(text: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
}

/** A saved point of a session (owns tensors: `dispose()` when done). */
export interface SessionSnapshot {
  readonly position: number;
  dispose(): void;
}

interface SnapData extends SessionSnapshot {
  state: HopeFastState;
  pending: number | null;
}

/** What `feed` reports: summed loss over the tokens it scored. */
export interface FeedResult {
  /** Targets scored (fed tokens whose previous token was known). */
  tokens: number;
  /** Summed next-token loss in nats. */
  nats: number;
  /** Mean loss in bits per token (NaN when nothing was scored). */
  bitsPerToken: number;
}

export class HopeSession {
  readonly model: HopeLM;
  private readonly tok: SessionTokenizer;
  private readonly customTok: boolean;
  private state: HopeFastState;
  private pending: number | null = null;
  private _position = 0;
  private readonly frozenMods = new Set<object>();
  private readonly frozenNames = new Set<string>();

  constructor(model: HopeLM, opts: { tokenizer?: SessionTokenizer } = {}) {
    this.model = model;
    this.tok = opts.tokenizer ?? byteTokenizer;
    this.customTok = opts.tokenizer !== undefined;
    this.state = this.freshState();
  }

  /** Tokens fed since the start (or the last reset). */
  get position(): number {
    return this._position;
  }

  /** The current fast state (owned by the session: read, don't dispose or keep). */
  get fastState(): HopeFastState {
    return this.state;
  }

  /** Names frozen with `freeze`. */
  get frozen(): string[] {
    return [...this.frozenNames];
  }

  private freshState(): HopeFastState {
    return tidy(() =>
      noGrad(() => {
        this.model.resetFast();
        return keepFastState(this.model.fastState());
      }),
    );
  }

  private ids(input: string | Int32Array | readonly number[], where: string): Int32Array {
    const ids = typeof input === 'string' ? this.tok.encode(input) : Int32Array.from(input);
    const v = this.model.config.vocabSize;
    ids.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id >= v)
        throw new Error(`HopeSession.${where}: token ${i} = ${id} is outside [0, ${v})`);
    });
    return ids;
  }

  /** Runs `fn` with the session's freeze flags on the model's memory modules. */
  private flagged<T>(fn: () => T): T {
    const mods = this.model.blocks.flatMap((b) => [b.titans, b.cms]);
    for (const m of mods) (this.frozenMods.has(m) ? m.freeze : m.unfreeze).call(m);
    try {
      return fn();
    } finally {
      for (const m of mods) m.unfreeze();
    }
  }

  /** Teacher-forced pass over [pending, ...ids] from the current state; returns the result and the new state. */
  private run(ids: Int32Array): { r: FeedResult; next: HopeFastState | null } {
    const seq = this.pending === null ? Array.from(ids) : [this.pending, ...ids];
    if (seq.length < 2) return { r: { tokens: 0, nats: 0, bitsPerToken: NaN }, next: null };
    return this.flagged(() =>
      tidy(() => {
        this.model.loadFastState(this.state);
        const batch = tensor(seq, { shape: [1, seq.length], dtype: 'int32', device: this.model.device }); // upload
        const { nats, count } = teacherForced(this.model, batch, { outer: false });
        const r = { tokens: count, nats, bitsPerToken: nats / count / Math.LN2 };
        return { r, next: keepFastState(this.model.fastState()) };
      }),
    );
  }

  /** Feeds text or ids (teacher-forced learning); returns the loss on the scored tokens. */
  feed(input: string | Int32Array | readonly number[]): FeedResult {
    const ids = this.ids(input, 'feed');
    if (ids.length === 0) return { tokens: 0, nats: 0, bitsPerToken: NaN };
    const { r, next } = this.run(ids);
    if (next !== null) {
      disposeFastState(this.state);
      this.state = next;
    }
    this.pending = ids[ids.length - 1]!;
    this._position += ids.length;
    return r;
  }

  /**
   * Bits per token (per byte with the byte tokenizer) of `text` continuing the current state, as
   * `feed(text)` would score it; the state does not change. Without context the first token is
   * not scored.
   */
  loss(input: string | Int32Array | readonly number[]): number {
    const ids = this.ids(input, 'loss');
    const { r, next } = this.run(ids);
    if (next !== null) disposeFastState(next);
    if (r.tokens === 0)
      throw new Error('HopeSession.loss: nothing to score (give at least 2 tokens without context)');
    return r.bitsPerToken;
  }

  /**
   * Continues the current state by plain decoding (CMS static) from a copy of it, through
   * `generate` (same options: maxTokens, temperature, topK, seed, stopTokens, ...); the session
   * does not change. Needs some fed context (the pending token is the prompt).
   */
  generate(opts: GenerateOptions = {}): GenerateResult {
    if (this.pending === null) throw new Error('HopeSession.generate: feed some context first');
    const model = this.model;
    const state = this.state;
    const view = Object.create(model, {
      decoder: { value: () => new HopeDecoder(model, state) },
    }) as HopeLM;
    return this.flagged(() =>
      generate(view, Int32Array.of(this.pending!), {
        ...(this.customTok ? { tokenizer: this.tok } : {}),
        ...opts,
      }),
    );
  }

  /** An exact copy of the current point (state, pending token, position). */
  snapshot(): SessionSnapshot {
    const state = cloneFastState(this.model, this.state);
    const snap: SnapData = {
      position: this._position,
      pending: this.pending,
      state,
      dispose: () => disposeFastState(state),
    };
    return snap;
  }

  /** Returns to `snap` exactly (the snapshot stays valid for further rollbacks). */
  rollback(snap: SessionSnapshot): void {
    const s = snap as SnapData;
    if (s.state === undefined) throw new Error('HopeSession.rollback: not a snapshot of a HopeSession');
    const copy = cloneFastState(this.model, s.state);
    disposeFastState(this.state);
    this.state = copy;
    this.pending = s.pending;
    this._position = s.position;
  }

  /** Stops writes of the named fast-state module(s); see the file comment for names. */
  freeze(name: string): void {
    for (const m of this.model.fastModules(name)) this.frozenMods.add(m);
    this.frozenNames.add(name);
  }

  /** Lets the named module(s) learn again. */
  unfreeze(name: string): void {
    for (const m of this.model.fastModules(name)) this.frozenMods.delete(m);
    this.frozenNames.delete(name);
  }

  /** Back to the meta-learned init, no context (freeze flags stay). */
  reset(): void {
    disposeFastState(this.state);
    this.state = this.freshState();
    this.pending = null;
    this._position = 0;
  }

  /** Writes the fast state to `path` (safetensors, atomic). */
  saveState(path: string): void {
    writeStateFile(path, this.model, this.state, { position: this._position, pending: this.pending });
  }

  /** Replaces the fast state with the one saved at `path` (checked against this model). */
  loadState(path: string): void {
    const { state, meta } = readStateFile(path, this.model);
    disposeFastState(this.state);
    this.state = state;
    this.pending = meta.pending;
    this._position = meta.position;
  }

  /** Frees the session's tensors. */
  dispose(): void {
    disposeFastState(this.state);
  }
}
