/**
 * MAD in-context recall and noisy in-context recall (multi-query variant, as MAD runs them).
 *
 * The vocabulary [0, vocabSize) is split as in mad-lab: the first vocabSize − noiseVocabSize ids
 * hold the keys (lower half) and values (upper half); the last noiseVocabSize ids are noise.
 * A sequence is seqLen/2 two-token slots. Each slot is a key–value pair (key drawn with
 * replacement, its value fixed within the sequence once drawn) or, with probability fracNoise,
 * two noise tokens. The last slot repeats a key already shown. Every value whose key was shown
 * earlier in the sequence is scored:
 *
 *   k₁ v₁ n n k₂ v₂ k₁ [v₁] …  k_probe [v_probe]       ([·] scored)
 *
 * Inputs are the first seqLen − 1 tokens, targets the next token at scored positions (mad-lab's
 * test-time shift). Chance on a scored token, for a model that knows the value ids: 1 / values.
 */
import type { Rng } from './rng.js';
import { checkFraction, checkInt, shiftExample, type MadExample } from './mad-common.js';

/** Options of {@link madInContextRecall} and {@link madNoisyRecall}. */
export interface MadRecallOptions {
  /** Ids used, [0, vocabSize). Default 16 (MAD's baseline; noisy recall: 32). */
  vocabSize?: number;
  /** Tokens per sequence before the shift (even). Default 32. */
  seqLen?: number;
  /** Ids at the top of the vocabulary reserved for noise. Default 0 (noisy recall: 16). */
  noiseVocabSize?: number;
  /** Probability that a slot holds two noise tokens instead of a pair. Default 0 (noisy: 0.2). */
  fracNoise?: number;
}

/** The id ranges of a recall task: keys, values and noise, each [lo, hi). */
export interface MadRecallLayout {
  keys: [number, number];
  values: [number, number];
  noise: [number, number];
}

/** Checks recall options (naming the bad one); returns them with defaults and the id layout. */
export function resolveMadRecall(o: MadRecallOptions = {}): Required<MadRecallOptions> & MadRecallLayout {
  const r = {
    vocabSize: o.vocabSize ?? 16,
    seqLen: o.seqLen ?? 32,
    noiseVocabSize: o.noiseVocabSize ?? 0,
    fracNoise: o.fracNoise ?? 0,
  };
  checkInt('vocabSize', r.vocabSize, 2, 256);
  checkInt('seqLen', r.seqLen, 4);
  if (r.seqLen % 2 !== 0) throw new RangeError(`seqLen must be even (key–value slots), got ${r.seqLen}`);
  checkInt('noiseVocabSize', r.noiseVocabSize, 0, r.vocabSize - 2);
  checkFraction('fracNoise', r.fracNoise);
  if (r.fracNoise > 0 && r.noiseVocabSize === 0)
    throw new RangeError(`fracNoise ${r.fracNoise} needs noiseVocabSize >= 1`);
  const content = r.vocabSize - r.noiseVocabSize;
  const half = Math.floor(content / 2);
  return {
    ...r,
    keys: [0, half],
    values: [half, content],
    noise: [content, r.vocabSize],
  };
}

/** One multi-query in-context recall sequence (see the module comment). */
export function madInContextRecall(rng: Rng, options: MadRecallOptions = {}): MadExample {
  const o = resolveMadRecall(options);
  const [klo, khi] = o.keys;
  const [vlo, vhi] = o.values;
  const [nlo, nhi] = o.noise;
  const slots = o.seqLen / 2;
  const keep = rng.int(slots - 1); // one slot before the probe is always a pair
  const tokens: number[] = [];
  const scored: boolean[] = [];
  const table = new Map<number, number>(); // key -> its value in this sequence, in showing order
  for (let s = 0; s < slots - 1; s++) {
    if (s !== keep && o.fracNoise > 0 && rng.next() < o.fracNoise) {
      tokens.push(nlo + rng.int(nhi - nlo), nlo + rng.int(nhi - nlo));
      scored.push(false, false);
      continue;
    }
    const key = klo + rng.int(khi - klo);
    const shown = table.has(key);
    if (!shown) table.set(key, vlo + rng.int(vhi - vlo));
    tokens.push(key, table.get(key)!);
    scored.push(false, shown);
  }
  const shownKeys = [...table.keys()];
  const probe = shownKeys[rng.int(shownKeys.length)]!;
  tokens.push(probe, table.get(probe)!);
  scored.push(false, true);
  return shiftExample(tokens, scored);
}

/** Noisy in-context recall: {@link madInContextRecall} with MAD's noisy defaults (32 ids, 16 of them noise, 20% noise slots). */
export function madNoisyRecall(rng: Rng, options: MadRecallOptions = {}): MadExample {
  return madInContextRecall(rng, {
    ...options,
    vocabSize: options.vocabSize ?? 32,
    noiseVocabSize: options.noiseVocabSize ?? 16,
    fracNoise: options.fracNoise ?? 0.2,
  });
}
