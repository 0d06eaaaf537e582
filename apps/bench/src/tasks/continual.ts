/**
 * Continual learning (issue 16 task 5) as a task family, in two parts:
 *
 * 1. Staged training on shifting domains (continual-stages.ts): SOTU 1790–1865, 1866–1945,
 *    1946–2021, then Moby-Dick; after each stage, bits per byte on the held-out text of every
 *    domain seen so far, and forgetting = the mean rise of the earlier domains' bpb since their
 *    own stage.
 * 2. Test-time learning without outer training (continual-repeat.ts), on the model trained in
 *    part 1: held-out passages (two per domain) read twice from a fresh state; the gain in
 *    bits/byte on the repeat. Hope through HopeSession with CMS learning and with CMS frozen,
 *    the others through their streaming decoders' carried state.
 */
import { familyModels } from './models.js';
import { failedRunNote, failedRunText } from './merge.js';
import { continualDomains, evenWindows, SOTU_ERAS } from './continual-data.js';
import { budgetSentence, pickBudget, widthOptions, type SizedBudget } from './budget.js';
import { repeatGain, type RepeatMode } from './continual-repeat.js';
import { forgetting, trainStages, type StageBudget } from './continual-stages.js';
import type { TaskFamily, TaskReport, TaskRow, TaskRunOptions } from './types.js';

/** Budget of the continual family. */
export interface ContinualBudget extends StageBudget, SizedBudget {
  /** Held-out passages per domain read twice in part 2, and their length in bytes. */
  passagesPerDomain: number;
  passageBytes: number;
}

export const CONTINUAL_QUICK: ContinualBudget = {
  name: 'quick',
  stepsPerStage: 1,
  batch: 2,
  seqLen: 32,
  lr: 3e-3,
  evalWindows: 2,
  passagesPerDomain: 1,
  passageBytes: 24,
};

/** Sized to the ~8 CPU-minute cap for 4 models × 3 seeds (see the protocol). */
export const CONTINUAL_FULL: ContinualBudget = {
  name: 'default',
  stepsPerStage: 25,
  batch: 8,
  seqLen: 64,
  lr: 3e-3,
  evalWindows: 16,
  passagesPerDomain: 2,
  passageBytes: 256,
};

/**
 * `--budget long`: models at d 64 (parameters matched at that width) trained on 256-byte windows,
 * 200 steps of batch 8 per stage (~410 KB of text per stage, 32× the default), so each stage trains
 * well past the byte-frequency stage; 128-byte passages for the repeat, so both reads fit in the
 * trained context.
 */
export const CONTINUAL_LONG: ContinualBudget = {
  ...CONTINUAL_FULL,
  name: 'long',
  dim: 64,
  stepsPerStage: 200,
  seqLen: 256,
  passageBytes: 128,
};

/** The budget `opts` names: --quick, --budget long, or the default. Throws naming an unknown one. */
export function continualBudget(opts: Pick<TaskRunOptions, 'quick' | 'budget'>): ContinualBudget {
  return pickBudget(
    'continual',
    { quick: CONTINUAL_QUICK, full: CONTINUAL_FULL, named: { long: CONTINUAL_LONG } },
    opts,
  );
}

export function runContinualFamily(
  opts: TaskRunOptions,
  budget: ContinualBudget = continualBudget(opts),
): TaskReport {
  const domains = continualDomains();
  // the passages of part 2: even windows of each domain's held-out text (never trained on)
  const passages = domains.flatMap((d) => {
    const all = evenWindows(d.heldOut, budget.passagesPerDomain, budget.passageBytes);
    return Array.from({ length: budget.passagesPerDomain }, (_, i) =>
      all.slice(i * budget.passageBytes, (i + 1) * budget.passageBytes),
    );
  });
  const rows: TaskRow[] = [];
  const failures: string[] = [];
  for (const seed of opts.seeds)
    for (const spec of familyModels(seed, opts.models, widthOptions(budget))) {
      let r: ReturnType<typeof trainStages>;
      try {
        r = trainStages(spec, domains, budget, seed);
      } catch (e) {
        // a model whose training diverges (e.g. a memory's gates going NaN) is reported, not fatal
        const why = failedRunText(spec.name, seed, e);
        opts.log(`continual ${why}`);
        failures.push(why);
        continue;
      }
      try {
        const base = {
          family: 'continual',
          model: spec.name,
          params: r.model.numParameters(),
          seed,
          steps: r.steps,
          tokens: r.tokens,
          seconds: r.seconds,
        };
        r.bpb.forEach((row, k) => {
          row.forEach((v, d) =>
            rows.push({
              ...base,
              task: `bpb: ${domains[d]!.name}`,
              metric: 'bpb',
              value: v,
              x: k + 1,
              xLabel: 'stage',
              extra: { stageDomain: domains[k]!.name, stageFinalLoss: r.finalLoss[k]! },
            }),
          );
          const f = forgetting(r.bpb, k);
          if (f !== undefined)
            rows.push({
              ...base,
              task: 'forgetting',
              metric: 'forgetting',
              value: f,
              x: k + 1,
              xLabel: 'stage',
            });
        });
        const modes: [string, RepeatMode][] =
          spec.config.kind === 'hope'
            ? [
                [spec.name, 'session'],
                [`${spec.name} (CMS frozen)`, 'session-cms-frozen'],
              ]
            : [[spec.name, 'decoder']];
        const gains: string[] = [];
        for (const [name, mode] of modes) {
          const t0 = performance.now();
          const g = repeatGain(r.model, passages, mode);
          const extra = { mode, passages: passages.length, passageBytes: budget.passageBytes };
          const seconds = (performance.now() - t0) / 1000;
          const at = { ...base, model: name, seconds, extra };
          rows.push({ ...at, task: 'test-time: first read', metric: 'bpb', value: g.first });
          rows.push({ ...at, task: 'test-time: second read', metric: 'bpb', value: g.second });
          rows.push({ ...at, task: 'test-time: repeat gain', metric: 'gain bits/byte', value: g.gain });
          gains.push(`${name} ${g.first.toFixed(2)}→${g.second.toFixed(2)}`);
        }
        const last = r.bpb[r.bpb.length - 1]!;
        opts.log(
          `continual seed ${seed} ${spec.name}: final bpb ${last.map((v) => v.toFixed(2)).join('/')}, forgetting ${(forgetting(r.bpb, r.bpb.length - 1) ?? NaN).toFixed(3)}; repeat ${gains.join(', ')} (${r.seconds.toFixed(0)} s)`,
        );
      } finally {
        r.model.dispose();
      }
    }
  const eras = SOTU_ERAS.map(([a, b]) => `${a}–${b}`).join(', ');
  return {
    family: 'continual',
    title: 'Continual learning: forgetting across domains, learning on a repeat',
    protocol:
      budgetSentence(budget) +
      `Part 1: each model trained from scratch in ${domains.length} stages — SOTU addresses of ${eras}, then Moby-Dick — ${budget.stepsPerStage} steps per stage of batch ${budget.batch} random windows of ${budget.seqLen + 1} bytes of that domain's training documents, with the model's own language-model loss (\`lossAndBackward\`, every position scored; Hope's runs its online CMS scheme), AdamW lr ${budget.lr}, weight decay 0.1, one optimizer across stages. ` +
      `After each stage: bits per byte (\`evalLoss\`/ln 2) on ${budget.evalWindows} fixed windows of the held-out documents (every 10th) of every domain seen so far (x = stage). Forgetting after stage k = mean over earlier domains d of bpb_k(d) − bpb_d(d) (lower is better). ` +
      `Part 2 (test-time learning, no outer update), on the model from part 1 (a briefly trained model): ${budget.passagesPerDomain} held-out passage(s) of ${budget.passageBytes} bytes per domain, each read twice from a fresh state; repeat gain = bits/byte first read − second read (higher is better). Hope through HopeSession.feed (Titans memories write, CMS levels take their scheduled updates) and with session.freeze('cms') (CMS frozen: levels read only); Titans and DeltaNet through their streaming decoders (memory state carried over); the Transformer's decoder attends to the first read through its KV cache (copying, shown for reference).`,
    rows,
    budget,
    notes: [
      budget.name === 'long'
        ? `${budget.stepsPerStage * domains.length} outer steps in all (${budget.stepsPerStage} per stage): each stage trains for ${budget.stepsPerStage * budget.batch * (budget.seqLen + 1)} bytes, short of convergence on its domain.`
        : `Tiny budget (${budget.stepsPerStage * domains.length} outer steps in all): the models are near the byte-frequency stage, so forgetting here is the drift of a barely trained model between similar English domains, not the forgetting of learned knowledge.`,
      'Paper: NL reports continual learning only at Llama scale (class-incremental CLINC/Banking/DBpedia, Fig. 6: Hope > InCA > EWC/ICL; continual translation, Fig. 8) as figures without recoverable numbers (../shared/docs/nested-learning.md §7.6); there is no small-scale number to set beside ours.',
      ...failures.map(failedRunNote),
    ],
    better: 'lower',
  };
}

export const continualFamily: TaskFamily = {
  name: 'continual',
  title: 'Continual learning',
  budgets: ['long'],
  run: (o) => runContinualFamily(o),
};
