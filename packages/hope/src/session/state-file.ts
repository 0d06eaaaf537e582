/**
 * A HopeLM fast state as one safetensors file (HopeSession.saveState / loadState):
 *   tensors   layers.<i>.titans.<memory>.<w1|w2|s1|s2|a1|a2>   [1, H, …]   (absent at a fresh start)
 *             layers.<i>.cms.<level>.<d1|d2|g1|g2>              level Δ and accumulated gradients
 *             layers.<i>.conv                                   [1, 3, D]   (absent at a fresh start)
 *   metadata  format 'nl-hope-session/1', config (the model config as JSON), session (JSON:
 *             position, pending token, per-layer token counters and CMS schedule counters).
 * Writes go to a temporary file that is renamed over the target (io.save), so a failed save never
 * destroys the previous file. Reads check the format, the model config, and every tensor's name,
 * shape and dtype, and name the file and the problem. Saving reads the state back from the model's
 * device and loading uploads it to the model's device (explicit transfers, like a checkpoint).
 */
import { io, type Tensor } from '@nl/tensor';
import type { SelfModMemState, SelfModSnapshot } from '@nl/memory';
import type { HopeFastState, HopeLM } from '../models/hope.js';

export const STATE_FORMAT = 'nl-hope-session/1';
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
    return {
      titansTokens: l.titans.tokens,
      titans: l.titans.state !== null,
      conv: l.conv !== null,
      cmsTokens: l.cms.tokens,
      levels: l.cms.levels.map((lv) => ({ pending: lv.pending, updates: lv.updates })),
    };
  });
  io.save(path, tensors, {
    format: STATE_FORMAT,
    config: JSON.stringify(model.config),
    session: JSON.stringify({ ...meta, layers }),
  });
}

function fail(path: string, msg: string): never {
  throw new SessionStateError(`HopeSession.loadState: ${path}: ${msg}`);
}

/** Reads a state file written for a model of the same config; returns new tensors. */
export function readStateFile(path: string, model: HopeLM): { state: HopeFastState; meta: SessionMeta } {
  let file: { tensors: Record<string, Tensor>; metadata: Record<string, string> };
  try {
    file = io.loadWithMetadata(path) as typeof file;
  } catch (e) {
    fail(path, `not a readable safetensors file (${(e as Error).message})`);
  }
  const md = file.metadata ?? {};
  if (md.format !== STATE_FORMAT)
    fail(path, `format is ${JSON.stringify(md.format)}, expected '${STATE_FORMAT}'`);
  let config: Record<string, unknown>;
  let sess: SessionMeta & { layers: LayerMeta[] };
  try {
    config = JSON.parse(md.config ?? '') as Record<string, unknown>;
    sess = JSON.parse(md.session ?? '') as typeof sess;
  } catch {
    fail(path, 'metadata config/session is not valid JSON');
  }
  const own = model.config as Record<string, unknown>;
  const diff = Object.keys(own).filter(
    (k) => k !== 'seed' && JSON.stringify(own[k]) !== JSON.stringify(config[k]),
  );
  if (diff.length > 0)
    fail(
      path,
      `saved for a different model config (${diff.map((k) => `${k}: ${JSON.stringify(config[k])} vs ${JSON.stringify(own[k])}`).join('; ')})`,
    );
  if (!Array.isArray(sess.layers) || sess.layers.length !== model.blocks.length)
    fail(path, `session metadata lists ${sess.layers?.length} layers, model has ${model.blocks.length}`);
  const used = new Set<string>();
  const take = (name: string, shape: readonly number[]): Tensor => {
    const t = file.tensors[name];
    if (t === undefined) fail(path, `missing tensor '${name}'`);
    if (t.shape.join() !== shape.join() || t.dtype !== model.config.dtype)
      fail(
        path,
        `tensor '${name}' is [${t.shape.join(', ')}] ${t.dtype}, expected [${shape.join(', ')}] ${model.config.dtype}`,
      );
    used.add(name);
    if (t.device === model.device) return t;
    // io.load reads into host memory: move the tensor to where the model lives (one upload)
    const moved = t.to(model.device);
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
    return { titans, cms: { levels, tokens: lm.cmsTokens }, conv };
  });
  const extra = Object.keys(file.tensors).filter((k) => !used.has(k));
  if (extra.length > 0) fail(path, `unexpected tensor(s) ${extra.map((k) => `'${k}'`).join(', ')}`);
  return { state: { layers }, meta: { position: sess.position, pending: sess.pending } };
}
