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

/** What a sized budget says about its models: its name and width (`dim`; absent = the tiny presets'). */
export interface SizedBudget {
  /** Which budget this is ('quick', 'default', 'long'; named in the report's protocol). */
  name?: string;
  /** Model width (`dim` of every model, parameters matched at it); the tiny presets' 128 when absent. */
  dim?: number;
}

/** `familyModels` options for a budget's width: every model at `dim`, parameters matched there. */
export const widthOptions = (b: SizedBudget): { overrides?: { dim: number } } =>
  b.dim === undefined ? {} : { overrides: { dim: b.dim } };

/** The protocol's sentence naming the budget and its models' width. */
export const budgetSentence = (b: SizedBudget): string =>
  `Budget '${b.name ?? 'custom'}': models at ${b.dim === undefined ? "the tiny presets' width (d 128)" : `width d ${b.dim}`}, 4 layers, parameters matched to Transformer++ of that shape. `;
