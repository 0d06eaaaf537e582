/**
 * MAD fuzzy in-context recall (multi-query): keys and values are motifs of 1..keyMotif and
 * 1..valueMotif adjacent tokens (distinct ids within a motif), so a model must group tokens
 * before it can recall. Ids as in mad-lab: the pad id is vocabSize − 1; of the rest, the lower
 * half are key tokens and the upper half value tokens, so a key run and a value run never mix.
 *
 * A probe pair (key motif, value motif) is placed once at a random point of the sequence; pairs
 * with random motif sizes fill the rest (a key keeps its value motif within the sequence); the
 * probe pair closes the sequence; the front is left-padded to seqLen + 1 tokens. Every value
 * token of a key shown earlier is scored. At evaluation (`evaluation: true`) keys are always
 * keyMotif tokens long, as in mad-lab's test sets; training draws key lengths 1..keyMotif.
 *
 * One difference from mad-lab: its probe position may fall after the filling loop stops, so the
 * closing probe can ask for a key never shown; here the probe is always placed inside the loop.
 * The model cannot see where a key ends before the value starts (a 1-token key may be the start
 * of a longer one), so the first value token is not always determined: the ceiling is below 100%.
 */
import type { Rng } from './rng.js';
import { checkInt, distinctIds, shiftExample, type MadExample } from './mad-common.js';

/** Options of {@link madFuzzyRecall}. */
export interface MadFuzzyOptions {
  /** Ids used, [0, vocabSize); the last is the pad. Default 16. */
  vocabSize?: number;
  /** Inputs per sequence (after the shift). Default 64. */
  seqLen?: number;
  /** Longest key motif. Default 3. */
  keyMotif?: number;
  /** Longest value motif. Default 3. */
  valueMotif?: number;
  /** Evaluation draw: every key has keyMotif tokens. Default false. */
  evaluation?: boolean;
}

/** Checks fuzzy-recall options (naming the bad one); returns them with defaults and the id layout. */
export function resolveMadFuzzy(
  o: MadFuzzyOptions = {},
): Required<MadFuzzyOptions> & { keys: [number, number]; values: [number, number]; pad: number } {
  const r = {
    vocabSize: o.vocabSize ?? 16,
    seqLen: o.seqLen ?? 64,
    keyMotif: o.keyMotif ?? 3,
    valueMotif: o.valueMotif ?? 3,
    evaluation: o.evaluation ?? false,
  };
  checkInt('vocabSize', r.vocabSize, 5, 256);
  const content = r.vocabSize - 1;
  const half = Math.floor(content / 2);
  checkInt('keyMotif', r.keyMotif, 1, half);
  checkInt('valueMotif', r.valueMotif, 1, content - half);
  checkInt('seqLen', r.seqLen, 4 * (r.keyMotif + r.valueMotif));
  return { ...r, keys: [0, half], values: [half, content], pad: r.vocabSize - 1 };
}

/** One fuzzy recall sequence (see the module comment). */
export function madFuzzyRecall(rng: Rng, options: MadFuzzyOptions = {}): MadExample {
  const o = resolveMadFuzzy(options);
  const keySize = () => (o.evaluation ? o.keyMotif : 1 + rng.int(o.keyMotif));
  const valueSize = () => 1 + rng.int(o.valueMotif);
  const drawKey = (size: number) => distinctIds(rng, o.keys[0], o.keys[1], size);
  const drawValue = (size: number) => distinctIds(rng, o.values[0], o.values[1], size);

  const probeKey = drawKey(keySize());
  const probeValue = drawValue(valueSize());
  const probeSize = probeKey.length + probeValue.length;
  // the filling loop runs while fewer than `fill` tokens are placed; a turn adds <= `turn` tokens,
  // so the first turn to start at or past probeAt (<= fill − turn) starts before `fill`: the
  // probe is always placed inside the loop
  const turn = o.keyMotif + o.valueMotif;
  const fill = o.seqLen - probeSize - turn;
  const probeAt = rng.int(fill - turn + 1);
  const table = new Map<string, number[]>([[probeKey.join(','), probeValue]]);
  const shown = new Set<string>();
  const tokens: number[] = [];
  const scored: boolean[] = [];
  const place = (key: number[], value: number[]) => {
    const name = key.join(',');
    const again = shown.has(name);
    shown.add(name);
    tokens.push(...key, ...value);
    for (const _ of key) scored.push(false);
    for (const _ of value) scored.push(again);
  };
  let probePlaced = false;
  while (tokens.length < fill) {
    if (!probePlaced && tokens.length >= probeAt) {
      place(probeKey, probeValue);
      probePlaced = true;
      continue;
    }
    const key = drawKey(keySize());
    const name = key.join(',');
    const vSize = valueSize();
    if (!table.has(name)) table.set(name, drawValue(vSize));
    if (name === probeKey.join(',')) probePlaced = true;
    place(key, table.get(name)!);
  }
  place(probeKey, probeValue);
  const pad = o.seqLen + 1 - tokens.length;
  return shiftExample(
    [...new Array<number>(pad).fill(o.pad), ...tokens],
    [...new Array<boolean>(pad).fill(false), ...scored],
  );
}
