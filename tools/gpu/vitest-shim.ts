/**
 * A small stand-in for `vitest` so the CUDA test files run on the GPU machine, which has Node
 * (carried) but no node_modules: tools/gpu/pack.sh bundles each test file with esbuild, aliasing
 * 'vitest' to this file. `expect` is vitest's own (@vitest/expect on chai, bundled); describe / it /
 * hooks / .each / .skip / .skipIf are implemented here. `runAll()` runs the collected tests in
 * order and returns a report; tools/gpu/run-tests.mjs calls it and writes JSON.
 */
import {
  chai,
  ChaiStyleAssertions,
  JestAsymmetricMatchers,
  JestChaiExpect,
  JestExtend,
} from '@vitest/expect';

chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(ChaiStyleAssertions);
chai.use(JestAsymmetricMatchers);

type Fn = () => unknown;
interface Test {
  name: string;
  fn: Fn;
  skip: boolean;
  suite: Suite;
}
interface Suite {
  name: string;
  parent: Suite | null;
  before: Fn[];
  after: Fn[];
  beforeEach: Fn[];
  afterEach: Fn[];
  skip: boolean;
}

const root: Suite = {
  name: '',
  parent: null,
  before: [],
  after: [],
  beforeEach: [],
  afterEach: [],
  skip: false,
};
let current = root;
const tests: Test[] = [];
const suites: Suite[] = [root];

export const expect: any = (value: unknown, message?: string) => chai.expect(value, message);
Object.assign(expect, chai.expect);
expect.soft = expect;
expect.unreachable = (m?: string) => chai.assert.fail(`expected${m ? ` "${m}" ` : ' '}not to be reached`);

function format(name: string, args: unknown[]): string {
  let i = 0;
  return name.replace(/%[sdioj]/g, () => String(args[i++]));
}

function makeDescribe(skip: boolean) {
  return (name: string, fn: Fn) => {
    const s: Suite = {
      name,
      parent: current,
      before: [],
      after: [],
      beforeEach: [],
      afterEach: [],
      skip: skip || current.skip,
    };
    suites.push(s);
    const prev = current;
    current = s;
    try {
      fn();
    } finally {
      current = prev;
    }
  };
}
function makeIt(skip: boolean) {
  return (name: string, fn?: Fn) => {
    tests.push({
      name,
      fn: fn ?? (() => {}),
      skip: skip || fn === undefined || current.skip,
      suite: current,
    });
  };
}
function withEach<F extends (name: string, fn: any) => void>(base: F) {
  return (table: unknown[]) => (name: string, fn: (...a: any[]) => unknown) => {
    for (const row of table) {
      const args = Array.isArray(row) ? row : [row];
      base(format(name, args), () => fn(...args));
    }
  };
}

export const describe: any = makeDescribe(false);
describe.skip = makeDescribe(true);
describe.each = withEach(describe);
describe.skipIf = (c: boolean) => (c ? describe.skip : describe);
describe.runIf = (c: boolean) => (c ? describe : describe.skip);
export const it: any = makeIt(false);
it.skip = makeIt(true);
it.todo = (name: string) => makeIt(true)(name);
it.each = withEach(it);
it.skipIf = (c: boolean) => (c ? it.skip : it);
it.runIf = (c: boolean) => (c ? it : it.skip);
it.concurrent = it;
export const test = it;
export const beforeAll = (fn: Fn) => current.before.push(fn);
export const afterAll = (fn: Fn) => current.after.push(fn);
export const beforeEach = (fn: Fn) => current.beforeEach.push(fn);
export const afterEach = (fn: Fn) => current.afterEach.push(fn);

function path(s: Suite): Suite[] {
  const out: Suite[] = [];
  for (let x: Suite | null = s; x; x = x.parent) out.unshift(x);
  return out;
}

export interface Report {
  passed: number;
  failed: number;
  skipped: number;
  failures: { name: string; error: string }[];
}

/** Runs every collected test (hooks in order); never throws. */
export async function runAll(log: (line: string) => void = console.log): Promise<Report> {
  const r: Report = { passed: 0, failed: 0, skipped: 0, failures: [] };
  const started = new Set<Suite>();
  const remaining = new Map<Suite, number>();
  for (const t of tests) for (const s of path(t.suite)) remaining.set(s, (remaining.get(s) ?? 0) + 1);
  for (const t of tests) {
    const chain = path(t.suite);
    const full = chain
      .map((s) => s.name)
      .filter(Boolean)
      .concat(t.name)
      .join(' > ');
    try {
      for (const s of chain)
        if (!started.has(s)) {
          started.add(s);
          for (const h of s.before) await h();
        }
      if (t.skip) {
        r.skipped++;
        log(`  - ${full}`);
      } else {
        for (const s of chain) for (const h of s.beforeEach) await h();
        await t.fn();
        for (const s of chain.reverse()) for (const h of s.afterEach) await h();
        r.passed++;
        log(`  ✓ ${full}`);
      }
    } catch (e) {
      r.failed++;
      const msg =
        e instanceof Error
          ? `${e.message}\n${(e.stack ?? '').split('\n').slice(1, 4).join('\n')}`
          : String(e);
      r.failures.push({ name: full, error: msg });
      log(`  × ${full}\n    ${msg.split('\n').join('\n    ')}`);
    }
    for (const s of path(t.suite).reverse()) {
      const left = (remaining.get(s) ?? 1) - 1;
      remaining.set(s, left);
      if (left === 0) for (const h of s.after) await Promise.resolve(h()).catch(() => {});
    }
  }
  return r;
}

/** The part of vitest's `vi` the CUDA tests use: spyOn with mock.calls and mockRestore. */
const viImpl = {
  spyOn(obj: Record<string, any>, key: string) {
    const original = obj[key];
    const calls: unknown[][] = [];
    const spy: any = function (this: unknown, ...args: unknown[]) {
      calls.push(args);
      return original.apply(this, args);
    };
    spy.mock = { calls };
    spy.mockRestore = () => {
      obj[key] = original;
    };
    obj[key] = spy;
    return spy;
  },
};
export const vi = new Proxy(viImpl, {
  get: (t, k) => {
    if (k in t) return (t as any)[k];
    throw new Error(`vitest shim: vi.${String(k)} is not available on the GPU runner`);
  },
});
