/**
 * Multi-query associative recall (MQAR; Arora et al. 2023, "Zoology"), on byte ids. A sequence
 * shows `pairs` key–value pairs, then asks for `queries` of the keys again, each followed by its
 * value; keys and values come from disjoint byte ranges, so the only way to predict a value
 * after a query key is to recall the pair shown earlier:
 *
 *   k₁ v₁ k₂ v₂ … k_P v_P  [gap filler]  q₁ a₁ q₂ a₂ … q_Q a_Q        (a_i = value of key q_i)
 *
 * `mask[i] = 1` on each a_i (predicted from tokens[0..i)). `gap` filler bytes (a fixed filler id)
 * between the pairs and the queries set the recall distance. Keys within a sequence are distinct;
 * values are drawn with replacement. All randomness comes from the caller's {@link Rng}.
 */
import type { Rng } from './rng.js';

/** Options of {@link multiQueryRecall}. */
export interface MqarOptions {
  /** Key–value pairs shown. Default 4. */
  pairs?: number;
  /** Keys asked for (distinct while queries <= pairs, then repeated). Default = pairs. */
  queries?: number;
  /** Filler bytes between the pairs and the queries. Default 0. */
  gap?: number;
  /** Key byte ids [lo, hi). Default [128, 192). */
  keyRange?: readonly [number, number];
  /** Value byte ids [lo, hi), disjoint from the keys. Default [192, 256). */
  valueRange?: readonly [number, number];
  /** The filler byte id (outside both ranges). Default 32 (space). */
  filler?: number;
}

/** One MQAR sequence. */
export interface MqarExample {
  /** Ids, shape [2·pairs + gap + 2·queries]. */
  readonly tokens: Int32Array;
  /** 1 where tokens[i] is a queried value (to predict from tokens[0..i)). */
  readonly mask: Uint8Array;
  /** The pairs shown, in order: [key, value]. */
  readonly pairs: ReadonlyArray<readonly [number, number]>;
}

function checkRange(name: string, r: readonly [number, number]): void {
  const [lo, hi] = r;
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi > 256 || hi <= lo)
    throw new RangeError(`${name} must be [lo, hi) with 0 <= lo < hi <= 256, got [${lo}, ${hi})`);
}

const overlaps = (a: readonly [number, number], b: readonly [number, number]) => a[0] < b[1] && b[0] < a[1];

function checkCount(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${v}`);
}

/** Checks MQAR options; returns them with defaults filled in. */
export function resolveMqarOptions(o: MqarOptions = {}): Required<MqarOptions> {
  const pairs = o.pairs ?? 4;
  const r = {
    pairs,
    queries: o.queries ?? pairs,
    gap: o.gap ?? 0,
    keyRange: o.keyRange ?? ([128, 192] as const),
    valueRange: o.valueRange ?? ([192, 256] as const),
    filler: o.filler ?? 32,
  };
  checkCount('pairs', r.pairs, 1);
  checkCount('queries', r.queries, 1);
  checkCount('gap', r.gap, 0);
  checkRange('keyRange', r.keyRange);
  checkRange('valueRange', r.valueRange);
  if (overlaps(r.keyRange, r.valueRange)) throw new RangeError('keyRange and valueRange overlap');
  if (r.pairs > r.keyRange[1] - r.keyRange[0])
    throw new RangeError(`pairs (${r.pairs}) exceed the ${r.keyRange[1] - r.keyRange[0]} distinct keys`);
  const inRange = (x: number, [lo, hi]: readonly [number, number]) => x >= lo && x < hi;
  if (!Number.isInteger(r.filler) || r.filler < 0 || r.filler > 255)
    throw new RangeError(`filler must be a byte id, got ${r.filler}`);
  if (inRange(r.filler, r.keyRange) || inRange(r.filler, r.valueRange))
    throw new RangeError(`filler ${r.filler} lies in the key or value range`);
  return r;
}

/** Sequence length of an MQAR example with these options: 2·pairs + gap + 2·queries. */
export function mqarLength(o: MqarOptions = {}): number {
  const r = resolveMqarOptions(o);
  return 2 * r.pairs + r.gap + 2 * r.queries;
}

/** Draws one MQAR sequence (see the module comment). */
export function multiQueryRecall(rng: Rng, options: MqarOptions = {}): MqarExample {
  const o = resolveMqarOptions(options);
  const [klo, khi] = o.keyRange;
  const [vlo, vhi] = o.valueRange;
  const keys = new Set<number>();
  while (keys.size < o.pairs) keys.add(klo + rng.int(khi - klo));
  const pairs = [...keys].map((k) => [k, vlo + rng.int(vhi - vlo)] as const);
  const tokens = new Int32Array(2 * o.pairs + o.gap + 2 * o.queries);
  const mask = new Uint8Array(tokens.length);
  pairs.forEach(([k, v], i) => tokens.set([k, v], 2 * i));
  tokens.fill(o.filler, 2 * o.pairs, 2 * o.pairs + o.gap);
  let order: number[] = [];
  for (let q = 0, at = 2 * o.pairs + o.gap; q < o.queries; q++, at += 2) {
    if (order.length === 0) order = shuffled(rng, o.pairs);
    const [k, v] = pairs[order.pop()!]!;
    tokens[at] = k;
    tokens[at + 1] = v;
    mask[at + 1] = 1;
  }
  return { tokens, mask, pairs };
}

/** 0..n-1 in a random order (Fisher–Yates). */
function shuffled(rng: Rng, n: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
