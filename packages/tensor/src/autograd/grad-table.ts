/**
 * The ONE table of backward rules, keyed by op name. Built-in ops register their rule next to
 * their forward (`defineGrad('exp', ...)` in src/ops/*), custom ops through `defineOp`.
 * Registering a name twice throws. A rule returns one gradient (or null) per input, already
 * reduced to that input's shape (see `sumToShape` for broadcasting).
 */
import type { GradRule } from './node.js';

const table = new Map<string, GradRule>();

/** Registers the backward rule of op `name`; throws if the name is taken. */
export function defineGrad(name: string, rule: GradRule): void {
  if (table.has(name)) throw new Error(`defineGrad: op '${name}' already has a backward rule`);
  table.set(name, rule);
}

/** The rule of op `name` (throws naming the op when missing). */
export function gradRule(name: string): GradRule {
  const r = table.get(name);
  if (r === undefined) throw new Error(`backward: no backward rule registered for op '${name}'`);
  return r;
}

/** True when `name` has a rule. */
export function hasGradRule(name: string): boolean {
  return table.has(name);
}

/** Names of every op with a backward rule (sorted). */
export function gradOps(): string[] {
  return [...table.keys()].sort();
}
