/**
 * The online CMS scheme shared by HopeLM training, evaluation and HopeSession.feed
 * (nested-learning.md §5.3 "practical scheme", A11, A18). A teacher-forced pass over
 * batch Int32 [B, T+1] (inputs [:, :T], targets [:, 1:]) continuing the model's fast state:
 *
 *   cut the T positions at every level boundary of every learning (non-frozen) CMS (each layer's
 *   own token count, so cuts line up with the levels' schedules); for each segment:
 *     logits = model.step(segment, probes)        memories write; CMS reads θ0 + Δ
 *     L_s = Σ_segment CE / B                      (per-token NTP, summed over tokens, mean over rows)
 *     backward(L_s)                               δ_ℓ = ∂L_s/∂(level output) on the probes
 *     model.observe()                             CMS accumulates Σ∇⟨MLP(x), δ⟩; due levels fire
 *   with no boundary inside the call: one plain pass (CMS levels with C ≥ T are plain MLPs).
 *
 * Outer gradients (`outer: true`) are the gradient of the mean loss Σ CE / (B·T), accumulated
 * into the parameters' existing `.grad`. Across segments the self-modifying memories' state and
 * the conv cache are either kept exact ('full': the next segment continues from the live state,
 * so the segments form one graph; an earlier segment's own backward walks only the ops between
 * L_s and its CMS probes (δ for observe, no parameter gradient), and after the last segment one
 * backward of Σ_s L_s walks the whole graph once — the exact gradient of the whole sequence,
 * never quadratic) or cut ('truncated': detached).
 * CMS writes are first order (Δ under no-grad, straight-through to θ0), as in A11.
 * Without outer gradients the parameters are switched to requiresGrad = false during the pass, so
 * each backward only walks the part of the graph below the probes, and the state is detached at
 * the cuts (which never changes a value).
 */
import { add, cast, crossEntropy, mul, narrow, noGrad, untracked, type Tensor } from '@nl/tensor';
import type { HopeBlock } from './hope-block.js';

/** What the scheme needs from a model (HopeLM implements it). */
export interface OnlineModel {
  readonly blocks: HopeBlock[];
  readonly config: { trainGrad: 'full' | 'truncated' };
  step(ids: Tensor, opts?: { probes?: boolean }): Tensor;
  observe(): void;
  parameters(): Tensor[];
}

/** Result of a teacher-forced pass: summed CE in nats and the number of targets. */
export interface OnlineResult {
  nats: number;
  count: number;
}

/** `OnlineResult` with the summed CE still on the model's device: a float64 scalar tensor. */
export interface OnlineTensorResult {
  nats: Tensor;
  count: number;
}

/** Segment ends in (0, T]: every CMS level boundary after `base` tokens, then T. */
export function segmentCuts(chunkSizes: readonly number[], base: number, t: number): number[] {
  const cuts = new Set<number>([t]);
  for (const c of chunkSizes) for (let p = c - (base % c); p < t; p += c) cuts.add(p);
  return [...cuts].sort((a, b) => a - b);
}

/** The live (on-graph) fast-state tensors that cross a segment cut, in a fixed order. */
function liveState(blocks: HopeBlock[]): Tensor[] {
  const out: Tensor[] = [];
  for (const b of blocks) {
    const s = b.titans.carriedState(); // 'fused': six stacked tensors, not one per memory
    if (s !== null) out.push(...s);
    if (b.convCache !== null) out.push(b.convCache);
    if (b.convVCache !== null) out.push(b.convVCache); // valueStream's conv cache
  }
  return out;
}

/** Replaces the state tensors `liveState` listed with `next` (same order). */
function installState(blocks: HopeBlock[], next: Tensor[]): void {
  let i = 0;
  for (const b of blocks) {
    const n = b.titans.carriedState()?.length ?? 0;
    if (n > 0) b.titans.installCarried(next.slice(i, (i += n)));
    if (b.convCache !== null) b.convCache = next[i++]!;
    if (b.convVCache !== null) b.convVCache = next[i++]!;
  }
}

/**
 * p.grad ← stash + scale · (gradient accumulated since `stash`), with tensor ops on the
 * parameters' device (no host read).
 */
function mergeGrads(params: Tensor[], stash: (Tensor | null)[], scale: number): void {
  noGrad(() =>
    params.forEach((p, i) => {
      const fresh = p.grad;
      const old = stash[i]!;
      if (fresh === null) {
        p.grad = old;
        return;
      }
      // outside the caller's tidy scope, like the gradients backward creates
      p.grad = untracked(() => {
        const scaled = mul(fresh, scale);
        if (old === null) return scaled;
        const merged = add(old, scaled);
        scaled.dispose();
        return merged;
      });
      fresh.dispose();
      if (old !== null) old.dispose();
    }),
  );
}

/** Summed CE as a float64 scalar (sums over segments in float64, as the host sum did). */
const natsOf = (ce: Tensor): Tensor => (ce.dtype === 'float64' ? ce.detach() : cast(ce.detach(), 'float64'));

/**
 * Runs the scheme on batch Int32 [B, T+1] (validated by the caller), continuing the fast state.
 * Call inside a `tidy`. Returns the summed CE over the B·T targets (read on the host: one
 * device -> host transfer per call; `teacherForcedOnDevice` leaves it on the device).
 */
export function teacherForced(model: OnlineModel, batch: Tensor, opts: { outer: boolean }): OnlineResult {
  const r = teacherForcedOnDevice(model, batch, opts);
  return { nats: r.nats.item(), count: r.count }; // one device -> host read: the summed loss
}

/**
 * `teacherForced` with the summed CE left on the model's device as a float64 scalar tensor: the
 * pass itself reads nothing back to the host. Call inside a `tidy`.
 */
export function teacherForcedOnDevice(
  model: OnlineModel,
  batch: Tensor,
  opts: { outer: boolean },
): OnlineTensorResult {
  const [b, t1] = batch.shape as [number, number];
  const t = t1 - 1;
  const ids = narrow(batch, 1, 0, t).contiguous(); // [B, T]
  const targets = narrow(batch, 1, 1, t).contiguous(); // [B, T]
  const blocks = model.blocks;
  // Layers whose CMS learns; their schedules may differ (a layer frozen for a while lags behind).
  const learning = blocks.map((bl) => bl.cms).filter((c) => !c.frozen);
  const fires = learning.some((c) => c.chunkSizes.some((n) => (c.tokens % n) + t >= n));
  if (!fires) {
    // No CMS update falls inside this call: one plain pass (levels act as plain MLPs).
    if (!opts.outer) {
      return noGrad(() => {
        const ce = crossEntropy(model.step(ids), targets, { reduction: 'sum' });
        return { nats: natsOf(ce), count: b * t };
      });
    }
    const ce = crossEntropy(model.step(ids), targets, { reduction: 'sum' });
    const nats = natsOf(ce);
    mul(ce, 1 / (b * t)).backward();
    return { nats, count: b * t };
  }
  const cuts = [...new Set(learning.flatMap((c) => segmentCuts(c.chunkSizes, c.tokens, t)))].sort(
    (x, y) => x - y,
  );
  const params = model.parameters();
  const full = opts.outer && model.config.trainGrad === 'full';
  // takeGrad detaches without disposing: the stash is merged back by mergeGrads
  const stash = opts.outer ? params.map((p) => p.takeGrad()) : [];
  if (!opts.outer) for (const p of params) p.requiresGrad = false;
  let total: Tensor | null = null; // 'full': Σ L_s over the segments so far (one connected graph)
  let nats: Tensor | null = null;
  try {
    let start = 0;
    cuts.forEach((end, s) => {
      const last = s === cuts.length - 1;
      const logits = model.step(narrow(ids, 1, start, end - start).contiguous(), { probes: true });
      const ce = crossEntropy(logits, narrow(targets, 1, start, end - start).contiguous(), {
        reduction: 'sum',
      });
      const segNats = natsOf(ce);
      nats = nats === null ? segNats : add(nats, segNats);
      const loss = mul(ce, 1 / b);
      if (full) {
        total = total === null ? loss : add(total, loss);
        // δ only (the ops between L_s and this segment's probes); the last segment walks all
        if (last) (total as Tensor).backward();
        else
          loss.backward(undefined, {
            retainGraph: true,
            inputs: blocks.flatMap((bl) => bl.cms.probes),
          });
      } else loss.backward();
      model.observe();
      // truncated / no outer gradient: the next segment starts from the detached state
      if (!last && !full)
        installState(
          blocks,
          liveState(blocks).map((x) => x.detach()),
        );
      start = end;
    });
  } finally {
    if (opts.outer) mergeGrads(params, stash, 1 / t);
    else for (const p of params) p.requiresGrad = true;
  }
  return { nats: nats!, count: b * t };
}
