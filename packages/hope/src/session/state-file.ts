/**
 * A HopeLM fast state as one safetensors file (HopeSession.saveState / loadState):
 *   tensors   layers.<i>.titans.<memory>.<w1|w2|s1|s2|a1|a2>   [1, H, …]   (absent at a fresh start)
 *             layers.<i>.cms.<level>.<d1|d2|g1|g2>              level Δ and accumulated gradients
 *             layers.<i>.conv                                   [1, 3, D]   (absent at a fresh start)
 *             layers.<i>.convV                                  [1, 3, D]   (valueStream's; same)
 *   metadata  format 'nl-hope-session/2', config (the model config as JSON), session (JSON:
 *             position, pending token, per-layer token counters and CMS schedule counters),
 *             checksums (JSON: tensor name → SHA-256 of its element bytes).
 * Writes go to a temporary file that is renamed over the target (io.save), so a failed save never
 * destroys the previous file. Reads check the format, the model config, and every tensor's name,
 * shape, dtype and SHA-256 (flipped data bytes are refused), and the session metadata (integer
 * counters in range: position ≥ 0, pending token in [0, vocabSize), token counters ≥ 0, CMS
 * `pending` in [0, chunkSize)), and name the file and the problem. A failed read disposes every
 * tensor it loaded. Saving reads the state back from the model's
 * device and loading uploads it to the model's device (explicit transfers, like a checkpoint).
 */
import { createHash } from 'node:crypto';
import { io, type Tensor } from '@nl/tensor';
import type { SelfModMemState, SelfModSnapshot } from '@nl/memory';
import type { HopeFastState, HopeLM } from '../models/hope.js';

export const STATE_FORMAT = 'nl-hope-session/2';

/** SHA-256 of a tensor's elements as stored (host bytes of its dtype). */
function tensorHash(t: Tensor): string {
  // device -> host read: hashing a saved/loaded tensor is file I/O, not a training path
  const a = t.dataSync() as ArrayLike<number> & ArrayBufferView;
  return createHash('sha256')
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest('hex');
}
const MEM_KEYS = ['w1', 'w2', 's1', 's2', 'a1', 'a2'] as const;
const CMS_KEYS = ['d1', 'd2', 'g1', 'g2'] as const;

/** Session scalars stored next to the fast state. */
export interface SessionMeta {
  position: number;
  pending: number | null;
}

interface LayerMeta {
  titansTokens: number;
  titans: boolean;
  conv: boolean;
  /** valueStream models: whether the value conv's cache is stored (absent otherwise). */
  convV?: boolean;
  cmsTokens: number;
  levels: { pending: number; updates: number }[];
}

/** Error reading or writing a session state file (names the file). */
export class SessionStateError extends Error {
  override name = 'SessionStateError';
}

/** Writes `state` + `meta` for `model` to `path` atomically. */
export function writeStateFile(path: string, model: HopeLM, state: HopeFastState, meta: SessionMeta): void {
  const tensors: Record<string, Tensor> = {};
  const layers: LayerMeta[] = state.layers.map((l, i) => {
    const p = `layers.${i}`;
    for (const [n, m] of Object.entries(l.titans.state ?? {}))
      for (const k of MEM_KEYS) tensors[`${p}.titans.${n}.${k}`] = m[k];
    l.cms.levels.forEach((lv, j) => {
      for (const k of CMS_KEYS) tensors[`${p}.cms.${j}.${k}`] = lv[k];
    });
    if (l.conv !== null) tensors[`${p}.conv`] = l.conv;
    if (l.convV) tensors[`${p}.convV`] = l.convV;
    return {
      titansTokens: l.titans.tokens,
      titans: l.titans.state !== null,
      conv: l.conv !== null,
      ...(l.convV === undefined ? {} : { convV: l.convV !== null }),
      cmsTokens: l.cms.tokens,
      levels: l.cms.levels.map((lv) => ({ pending: lv.pending, updates: lv.updates })),
    };
  });
  const checksums: Record<string, string> = {};
  for (const [k, t] of Object.entries(tensors)) checksums[k] = tensorHash(t);
  io.save(path, tensors, {
    format: STATE_FORMAT,
    config: JSON.stringify(model.config),
    session: JSON.stringify({ ...meta, layers }),
    checksums: JSON.stringify(checksums),
  });
}

function fail(path: string, msg: string): never {
  throw new SessionStateError(`HopeSession.loadState: ${path}: ${msg}`);
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** Checks the session metadata's counters (throws naming the bad field). */
function checkSessionMeta(path: string, model: HopeLM, sess: SessionMeta & { layers: LayerMeta[] }): void {
  if (typeof sess !== 'object' || sess === null) fail(path, 'session metadata is not a JSON object');
  if (!isCount(sess.position))
    fail(path, `session position must be a non-negative integer, got ${JSON.stringify(sess.position)}`);
  const vocab = model.config.vocabSize;
  if (sess.pending !== null && !(isCount(sess.pending) && sess.pending < vocab))
    fail(
      path,
      `session pending token must be null or an integer in [0, ${vocab}), got ${JSON.stringify(sess.pending)}`,
    );
  if (!Array.isArray(sess.layers) || sess.layers.length !== model.blocks.length)
    fail(path, `session metadata lists ${sess.layers?.length} layers, model has ${model.blocks.length}`);
  sess.layers.forEach((l, i) => {
    const at = `layer ${i}`;
    if (typeof l !== 'object' || l === null) fail(path, `session metadata of ${at} is not an object`);
    for (const k of ['titansTokens', 'cmsTokens'] as const)
      if (!isCount(l[k]))
        fail(path, `${at} ${k} must be a non-negative integer, got ${JSON.stringify(l[k])}`);
    for (const k of ['titans', 'conv'] as const)
      if (typeof l[k] !== 'boolean')
        fail(path, `${at} ${k} must be true or false, got ${JSON.stringify(l[k])}`);
    if (l.convV !== undefined && typeof l.convV !== 'boolean')
      fail(path, `${at} convV must be true or false, got ${JSON.stringify(l.convV)}`);
    const chunks = model.blocks[i]!.cms.chunkSizes;
    if (!Array.isArray(l.levels) || l.levels.length !== chunks.length)
      fail(path, `${at} lists ${l.levels?.length} CMS levels, model has ${chunks.length}`);
    l.levels.forEach((lv, j) => {
      if (!isCount(lv?.pending) || lv.pending >= chunks[j]!)
        fail(
          path,
          `${at} CMS level ${j} pending must be an integer in [0, ${chunks[j]}), got ${JSON.stringify(lv?.pending)}`,
        );
      if (!isCount(lv.updates))
        fail(
          path,
          `${at} CMS level ${j} updates must be a non-negative integer, got ${JSON.stringify(lv.updates)}`,
        );
    });
  });
}

/** Reads a state file written for a model of the same config; returns new tensors. */
export function readStateFile(path: string, model: HopeLM): { state: HopeFastState; meta: SessionMeta } {
  let file: { tensors: Record<string, Tensor>; metadata: Record<string, string> };
  try {
    file = io.loadWithMetadata(path) as typeof file;
  } catch (e) {
    fail(path, `not a readable safetensors file (${(e as Error).message})`);
  }
  const loaded = new Set<Tensor>(Object.values(file.tensors));
  try {
    return readLoaded(path, model, file, loaded);
  } catch (e) {
    for (const t of loaded) t.dispose(); // a failed load keeps nothing it allocated
    throw e;
  }
}

function readLoaded(
  path: string,
  model: HopeLM,
  file: { tensors: Record<string, Tensor>; metadata: Record<string, string> },
  loaded: Set<Tensor>,
): { state: HopeFastState; meta: SessionMeta } {
  const md = file.metadata ?? {};
  if (md.format !== STATE_FORMAT)
    fail(path, `format is ${JSON.stringify(md.format)}, expected '${STATE_FORMAT}'`);
  let config: Record<string, unknown>;
  let sess: SessionMeta & { layers: LayerMeta[] };
  let checksums: Record<string, unknown>;
  try {
    config = JSON.parse(md.config ?? '') as Record<string, unknown>;
    sess = JSON.parse(md.session ?? '') as typeof sess;
    checksums = JSON.parse(md.checksums ?? '') as Record<string, unknown>;
  } catch {
    fail(path, 'metadata config/session/checksums is not valid JSON');
  }
  if (typeof checksums !== 'object' || checksums === null)
    fail(path, 'metadata checksums is not a JSON object');
  const own = model.config as Record<string, unknown>;
  const diff = Object.keys(own).filter(
    (k) => k !== 'seed' && JSON.stringify(own[k]) !== JSON.stringify(config[k]),
  );
  if (diff.length > 0)
    fail(
      path,
      `saved for a different model config (${diff.map((k) => `${k}: ${JSON.stringify(config[k])} vs ${JSON.stringify(own[k])}`).join('; ')})`,
    );
  checkSessionMeta(path, model, sess);
  const used = new Set<string>();
  const take = (name: string, shape: readonly number[]): Tensor => {
    const t = file.tensors[name];
    if (t === undefined) fail(path, `missing tensor '${name}'`);
    if (t.shape.join() !== shape.join() || t.dtype !== model.config.dtype)
      fail(
        path,
        `tensor '${name}' is [${t.shape.join(', ')}] ${t.dtype}, expected [${shape.join(', ')}] ${model.config.dtype}`,
      );
    if (typeof checksums[name] !== 'string') fail(path, `no checksum for tensor '${name}'`);
    if (tensorHash(t) !== checksums[name])
      fail(path, `tensor '${name}' does not match its SHA-256 checksum (corrupt data)`);
    used.add(name);
    if (t.device === model.device) return t;
    // io.load reads into host memory: move the tensor to where the model lives (one upload)
    const moved = t.to(model.device);
    loaded.add(moved);
    loaded.delete(t);
    t.dispose();
    return moved;
  };
  const layers = model.blocks.map((b, i) => {
    const lm = sess.layers[i]!;
    const p = `layers.${i}`;
    let titans: SelfModSnapshot = { state: null, tokens: lm.titansTokens };
    if (lm.titans) {
      const st: NonNullable<SelfModSnapshot['state']> = {};
      for (const n of b.titans.names) {
        const m = b.titans.memories[n]!;
        const mem = {} as Record<(typeof MEM_KEYS)[number], Tensor>;
        for (const k of MEM_KEYS)
          mem[k] = take(`${p}.titans.${n}.${k}`, [1, ...(k.endsWith('1') ? m.w1 : m.w2).shape]);
        st[n] = mem satisfies SelfModMemState;
      }
      titans = { state: st, tokens: lm.titansTokens };
    }
    const levels = b.cms.chunkSizes.map((_, j) => {
      const s = lm.levels[j];
      if (s === undefined) fail(path, `session metadata has no CMS level ${j} for layer ${i}`);
      const w1 = b.cms.w1[j]!.shape;
      const w2 = b.cms.w2[j]!.shape;
      return {
        d1: take(`${p}.cms.${j}.d1`, w1),
        d2: take(`${p}.cms.${j}.d2`, w2),
        g1: take(`${p}.cms.${j}.g1`, w1),
        g2: take(`${p}.cms.${j}.g2`, w2),
        pending: s.pending,
        updates: s.updates,
      };
    });
    const conv = lm.conv ? take(`${p}.conv`, [1, 3, model.config.dim]) : null;
    if (b.wv === null) return { titans, cms: { levels, tokens: lm.cmsTokens }, conv };
    const convV = lm.convV === true ? take(`${p}.convV`, [1, 3, model.config.dim]) : null;
    return { titans, cms: { levels, tokens: lm.cmsTokens }, conv, convV };
  });
  const extra = Object.keys(file.tensors).filter((k) => !used.has(k));
  if (extra.length > 0) fail(path, `unexpected tensor(s) ${extra.map((k) => `'${k}'`).join(', ')}`);
  loaded.clear(); // handed over to the caller
  return { state: { layers }, meta: { position: sess.position, pending: sess.pending } };
}
