/**
 * Choosing a family's budget from the CLI options: `--quick` (CI: checks the plumbing), a named
 * budget (`--budget long`), or the family's default. One rule for every family that has named
 * budgets, so their refusals read alike.
 */
import type { TaskRunOptions } from './types.js';

/** A family's budgets: the quick one, the default, and the named ones (`--budget <name>`). */
export interface FamilyBudgets<B> {
  quick: B;
  full: B;
  named: Record<string, B>;
}

/**
 * The budget `opts` names. Throws naming the family when `--quick` and `--budget` are both given,
 * or when the family has no budget of that name (listing the ones it has).
 */
export function pickBudget<B>(
  family: string,
  budgets: FamilyBudgets<B>,
  opts: Pick<TaskRunOptions, 'quick' | 'budget'>,
): B {
  if (opts.budget === undefined) return opts.quick ? budgets.quick : budgets.full;
  if (opts.quick) throw new RangeError(`${family}: --quick and --budget ${opts.budget} exclude each other`);
  const named = Object.hasOwn(budgets.named, opts.budget) ? budgets.named[opts.budget] : undefined;
  if (named === undefined)
    throw new RangeError(
      `${family} has no budget '${opts.budget}' (budgets: ${Object.keys(budgets.named).join(', ')})`,
    );
  return named;
}
