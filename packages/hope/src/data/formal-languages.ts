/**
 * Formal-language tasks in the style of Delétang et al. 2023 ("Neural Networks and the Chomsky
 * Hierarchy"), on byte ids (printable ASCII, so a sequence reads as text). Each example is an
 * input, a separator `=`, then the answer; `mask[i] = 1` on every answer token (predicted from
 * tokens[0..i)), so a loss on the masked positions only trains the task:
 *
 *   parity              0 1 1 0 1 = 1            odd number of 1s → '1', even → '0'
 *   modular-arithmetic  3 + 4 * 2 - 1 = 0        + − × with × first, result mod 5
 *   dyck                ( [ ] ( [ = ] ) ) .      Dyck-2 prefix with open brackets; close them, then '.'
 *   anbn                a a a = b b b .          aⁿ: answer bⁿ, then '.' (count the a's)
 *   reverse             0 1 1 = 1 1 0            the input reversed
 *   duplicate           0 1 1 = 0 1 1 0 1 1      the input twice
 *
 * `length` is each task's input size: bits, operands, brackets, a's or characters; it is drawn
 * uniformly from [minLength, maxLength]. All randomness comes from the caller's {@link Rng}.
 */
import type { Rng } from './rng.js';

/** The six tasks. */
export const FORMAL_TASKS = ['parity', 'modular-arithmetic', 'dyck', 'anbn', 'reverse', 'duplicate'] as const;
export type FormalTaskName = (typeof FORMAL_TASKS)[number];

/** Options of every formal-language generator. */
export interface FormalOptions {
  /** Smallest input size (bits, operands, brackets, a's, characters). Default 1. */
  minLength?: number;
  /** Largest input size. Default 16. */
  maxLength?: number;
}

/** One example of a formal-language task. */
export interface FormalExample {
  /** Ids: input, `=`, answer. */
  readonly tokens: Int32Array;
  /** 1 on the answer tokens. */
  readonly mask: Uint8Array;
  /** The input size drawn for this example. */
  readonly length: number;
}

const code = (c: string): number => c.charCodeAt(0);
/** The separator between input and answer. */
export const FORMAL_SEPARATOR = code('=');
/** The end mark of variable-length answers (dyck, anbn). */
export const FORMAL_END = code('.');
const BITS = [code('0'), code('1')];
const OPS = [code('+'), code('-'), code('*')];
const OPENERS = [code('('), code('[')];
const CLOSERS = [code(')'), code(']')];
const MODULUS = 5;

/** Checks options; returns [minLength, maxLength]. */
export function resolveFormalOptions(o: FormalOptions = {}): [number, number] {
  const lo = o.minLength ?? 1;
  const hi = o.maxLength ?? 16;
  if (!Number.isInteger(lo) || lo < 1) throw new RangeError(`minLength must be an integer >= 1, got ${lo}`);
  if (!Number.isInteger(hi) || hi < lo)
    throw new RangeError(`maxLength must be an integer >= minLength (${lo}), got ${hi}`);
  if (hi > 4096) throw new RangeError(`maxLength must be <= 4096, got ${hi}`);
  return [lo, hi];
}

/** Builds the example: input, separator, answer (masked). */
function example(input: number[], answer: number[], length: number): FormalExample {
  const tokens = Int32Array.from([...input, FORMAL_SEPARATOR, ...answer]);
  const mask = new Uint8Array(tokens.length);
  mask.fill(1, input.length + 1);
  return { tokens, mask, length };
}

const drawLength = (rng: Rng, o: FormalOptions): number => {
  const [lo, hi] = resolveFormalOptions(o);
  return lo + rng.int(hi - lo + 1);
};

const bits = (rng: Rng, n: number): number[] => Array.from({ length: n }, () => BITS[rng.int(2)]!);

/** Parity: a bit string; the answer is '1' when it holds an odd number of 1s. Chance 50%. */
export function parityTask(rng: Rng, o: FormalOptions = {}): FormalExample {
  const n = drawLength(rng, o);
  const input = bits(rng, n);
  let odd = 0;
  for (const b of input) odd ^= b === BITS[1] ? 1 : 0;
  return example(input, [BITS[odd]!], n);
}

/**
 * Modular arithmetic: `length` digits in [0, 5) joined by + − ×, evaluated with × before + and −,
 * left to right, the result in [0, 5). Chance 20%.
 */
export function modularArithmeticTask(rng: Rng, o: FormalOptions = {}): FormalExample {
  const n = drawLength(rng, o);
  const input: number[] = [];
  let sum = 0; // of the finished terms, mod 5
  let sign = 1;
  let product = 1; // of the current term, mod 5
  for (let i = 0; i < n; i++) {
    const digit = rng.int(MODULUS);
    input.push(code('0') + digit);
    product = (product * digit) % MODULUS;
    if (i + 1 === n) break;
    const op = OPS[rng.int(OPS.length)]!;
    input.push(op);
    if (op !== code('*')) {
      sum += sign * product;
      sign = op === code('+') ? 1 : -1;
      product = 1;
    }
  }
  sum += sign * product;
  const result = ((sum % MODULUS) + MODULUS) % MODULUS;
  return example(input, [code('0') + result], n);
}

/**
 * Dyck-2 completion: a prefix of `length` brackets over () and [] that is well nested so far and
 * leaves at least one bracket open; the answer closes them innermost first, then '.'.
 */
export function dyckTask(rng: Rng, o: FormalOptions = {}): FormalExample {
  const n = drawLength(rng, o);
  const input: number[] = [];
  const open: number[] = []; // stack of bracket types
  for (let i = 0; i < n; i++) {
    const last = i + 1 === n;
    if (last || open.length === 0 || rng.int(2) === 0) {
      const t = rng.int(OPENERS.length);
      open.push(t);
      input.push(OPENERS[t]!);
    } else input.push(CLOSERS[open.pop()!]!);
  }
  const answer = open.reverse().map((t) => CLOSERS[t]!);
  return example(input, [...answer, FORMAL_END], n);
}

/** aⁿbⁿ completion: n a's; the answer is n b's then '.'. */
export function anbnTask(rng: Rng, o: FormalOptions = {}): FormalExample {
  const n = drawLength(rng, o);
  return example(Array(n).fill(code('a')), [...Array(n).fill(code('b')), FORMAL_END], n);
}

/** Reverse string: a bit string; the answer is it reversed. */
export function reverseTask(rng: Rng, o: FormalOptions = {}): FormalExample {
  const n = drawLength(rng, o);
  const input = bits(rng, n);
  return example(input, [...input].reverse(), n);
}

/** Duplicate string: a bit string; the answer is it written twice. */
export function duplicateTask(rng: Rng, o: FormalOptions = {}): FormalExample {
  const n = drawLength(rng, o);
  const input = bits(rng, n);
  return example(input, [...input, ...input], n);
}

const GENERATORS: Record<FormalTaskName, (rng: Rng, o?: FormalOptions) => FormalExample> = {
  parity: parityTask,
  'modular-arithmetic': modularArithmeticTask,
  dyck: dyckTask,
  anbn: anbnTask,
  reverse: reverseTask,
  duplicate: duplicateTask,
};

/** Draws one example of the named task; throws naming an unknown task. */
export function formalLanguageExample(task: FormalTaskName, rng: Rng, o: FormalOptions = {}): FormalExample {
  if (!Object.hasOwn(GENERATORS, task))
    throw new RangeError(
      `unknown formal-language task '${String(task)}'; available: ${FORMAL_TASKS.join(', ')}`,
    );
  return GENERATORS[task](rng, o);
}
