// Formal-language generators against oracles that solve each task from the visible input alone
// (the text before '='): the masked tokens are exactly the answer the oracle computes, the layout
// is input '=' answer, lengths cover the requested range, both or all answer classes occur, a
// seed fixes the examples, and bad options and unknown tasks are named.
import { describe, expect, it } from 'vitest';
import {
  FORMAL_TASKS,
  Rng,
  formalLanguageExample,
  type FormalExample,
  type FormalTaskName,
} from '../src/index.js';

const text = (ids: ArrayLike<number>): string => String.fromCharCode(...Array.from(ids));

/** Evaluates "d op d op …" with × before + and −, mod 5, by splitting the text into signed terms. */
function evalMod5(expr: string): number {
  let total = 0n;
  for (const m of expr.matchAll(/([+-]?)([0-9*]+)/g)) {
    const term = m[2]!.split('*').reduce((p, d) => p * BigInt(d), 1n);
    total += m[1] === '-' ? -term : term;
  }
  return Number(((total % 5n) + 5n) % 5n);
}

/** Closes an unfinished Dyck-2 prefix; null if the prefix is not well nested or has nothing open. */
function closeDyck(prefix: string): string | null {
  const pairs: Record<string, string> = { ')': '(', ']': '[' };
  const stack: string[] = [];
  for (const c of prefix) {
    if (c === '(' || c === '[') stack.push(c);
    else if (stack.pop() !== pairs[c]) return null;
  }
  if (stack.length === 0) return null;
  return `${stack
    .reverse()
    .map((c) => (c === '(' ? ')' : ']'))
    .join('')}.`;
}

/** Each task's answer from its input text, and the input size it stands for. */
const ORACLES: Record<FormalTaskName, (input: string) => { answer: string | null; size: number }> = {
  parity: (s) => ({
    answer: /^[01]+$/.test(s) ? String(s.split('1').length % 2 === 0 ? 1 : 0) : null,
    size: s.length,
  }),
  'modular-arithmetic': (s) => ({
    answer: /^[0-4]([+*-][0-4])*$/.test(s) ? String(evalMod5(s)) : null,
    size: (s.length + 1) / 2,
  }),
  dyck: (s) => ({ answer: /^[()[\]]+$/.test(s) ? closeDyck(s) : null, size: s.length }),
  anbn: (s) => ({ answer: /^a+$/.test(s) ? `${'b'.repeat(s.length)}.` : null, size: s.length }),
  reverse: (s) => ({ answer: /^[01]+$/.test(s) ? [...s].reverse().join('') : null, size: s.length }),
  duplicate: (s) => ({ answer: /^[01]+$/.test(s) ? s + s : null, size: s.length }),
};

/** Splits an example at its one '=' and checks the mask covers exactly what follows it. */
function split(ex: FormalExample): { input: string; answer: string } {
  const s = text(ex.tokens);
  const at = s.indexOf('=');
  expect(at).toBeGreaterThan(0);
  expect(s.indexOf('=', at + 1)).toBe(-1);
  expect(Array.from(ex.mask)).toEqual(Array.from(ex.tokens, (_, i) => (i > at ? 1 : 0)));
  return { input: s.slice(0, at), answer: s.slice(at + 1) };
}

describe.each(FORMAL_TASKS)('formal language %s', (task) => {
  it.each([
    { minLength: 1, maxLength: 16 },
    { minLength: 17, maxLength: 32 },
    { minLength: 5, maxLength: 5 },
  ])('masked answers are the oracle answers (%o)', (opts) => {
    const rng = Rng.fromSeed(11);
    const sizes = new Set<number>();
    const answers = new Set<string>();
    for (let n = 0; n < 300; n++) {
      const ex = formalLanguageExample(task, rng, opts);
      const { input, answer } = split(ex);
      const solved = ORACLES[task](input);
      expect(solved.answer).not.toBeNull();
      expect(answer).toBe(solved.answer);
      expect(solved.size).toBe(ex.length);
      expect(ex.length).toBeGreaterThanOrEqual(opts.minLength);
      expect(ex.length).toBeLessThanOrEqual(opts.maxLength);
      sizes.add(ex.length);
      answers.add(answer);
    }
    expect(sizes.size).toBe(opts.maxLength - opts.minLength + 1); // every size in range occurs
    if (task === 'parity') expect(answers).toEqual(new Set(['0', '1']));
    if (task === 'modular-arithmetic') expect(answers.size).toBe(5);
  });

  it('is fixed by the seed', () => {
    const draw = (seed: number) =>
      Array.from({ length: 5 }, (_, i) => text(formalLanguageExample(task, Rng.fromSeed(seed + i)).tokens));
    expect(draw(4)).toEqual(draw(4));
    expect(draw(4)).not.toEqual(draw(40));
  });

  it('names bad options', () => {
    const rng = Rng.fromSeed(1);
    expect(() => formalLanguageExample(task, rng, { minLength: 0 })).toThrow(
      /minLength must be an integer >= 1/,
    );
    expect(() => formalLanguageExample(task, rng, { minLength: 1.5 })).toThrow(/minLength/);
    expect(() => formalLanguageExample(task, rng, { minLength: 8, maxLength: 4 })).toThrow(
      /maxLength must be an integer >= minLength \(8\), got 4/,
    );
    expect(() => formalLanguageExample(task, rng, { maxLength: 5000 })).toThrow(/maxLength must be <= 4096/);
  });
});

describe('formalLanguageExample', () => {
  it('names an unknown task', () => {
    expect(() => formalLanguageExample('toString' as FormalTaskName, Rng.fromSeed(0))).toThrow(
      /unknown formal-language task 'toString'; available: parity, modular-arithmetic/,
    );
  });
  it('modular arithmetic applies × before + and − (hand-checked cases through the oracle)', () => {
    expect(evalMod5('3+4*2-1')).toBe(0); // 3 + 8 − 1 = 10
    expect(evalMod5('2-3*4')).toBe(0); // 2 − 12 = −10
    expect(evalMod5('4*4*4')).toBe(4); // 64
    expect(evalMod5('1-2')).toBe(4); // −1
  });
});
