/**
 * Corpus preparation for the trainer: load the corpus named by the config, split it by the
 * fixed rule of @nl/hope's `splitCorpus`, and check both sides hold at least one sequence.
 */
import { loadCorpus, splitCorpus, type CorpusSplit } from '@nl/hope';
import type { TrainConfig } from './config.js';

/** Prepared data and a one-line description. */
export interface PreparedData {
  split: CorpusSplit;
  summary: string;
}

/**
 * Load and split the configured corpus.
 * @throws CorpusError / Error with a message naming the corpus and the size problem
 */
export function prepareData(config: Pick<TrainConfig, 'corpus' | 'valFraction' | 'seqLen'>): PreparedData {
  const corpus = loadCorpus(config.corpus);
  const split = splitCorpus(corpus, { valFraction: config.valFraction });
  for (const [side, bytes] of [
    ['training', split.train],
    ['validation', split.val],
  ] as const) {
    if (bytes.length < config.seqLen + 1) {
      throw new Error(
        `corpus ${config.corpus}: the ${side} side has ${bytes.length} bytes, fewer than seqLen + 1 = ${config.seqLen + 1}; lower --seq-len or use more text`,
      );
    }
  }
  const summary =
    `corpus ${config.corpus}: ${corpus.documents.length} documents, train ${split.train.length} bytes, ` +
    `validation ${split.val.length} bytes (split by ${split.rule}: ${split.valDocuments.length} validation documents)`;
  return { split, summary };
}
