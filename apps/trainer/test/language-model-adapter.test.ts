// The LanguageModel → TrainableLM adapter (src/factories/language-model.ts) with a real tensor
// model (TinyLM from @nl/hope's tests): optimizer groups, a train step equal to the hand-written
// loop, gradient clipping, save → load → identical logits, and nl-train end to end (checkpoint
// readable by @nl/hope's loadCheckpoint, Ctrl-C + resume == uninterrupted bit for bit for AdamW,
// Muon and M3, bad optimizer names).
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, loadCheckpoint, readCheckpoint, type TokenBatch } from '@nl/hope';
import { AdamW, Muon, clipGradNorm } from '@nl/optim';
import { fromTypedArray } from '@nl/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type TrainConfig } from '../src/config.js';
import {
  LanguageModelTrainer,
  MUON_LR_SCALE,
  languageModelFactory,
} from '../src/factories/language-model.js';
import type { ModelRegistry } from '../src/model-api.js';
import { TinyLM } from '../../../packages/hope/test/tiny-lm.js';
import { run, writeCorpus } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'nl-trainer-adapter-'));
const corpus = writeCorpus(join(root, 'corpus'), 20, 600);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const tinyFactory = languageModelFactory(
  (ctx) => ({
    kind: 'transformer',
    vocabSize: ctx.vocabSize,
    dim: 16,
    layers: 1,
    heads: 1,
    seed: ctx.config.seed,
  }),
  (c) => new TinyLM(c),
);
const registry: ModelRegistry = { tiny: tinyFactory };
const config = (over: Partial<TrainConfig> = {}): TrainConfig => ({
  ...DEFAULT_CONFIG,
  model: 'tiny',
  optimizer: 'adamw',
  ...over,
});

function batch(seed: number, B = 2, T = 10): TokenBatch {
  const rng = Rng.fromSeed(seed);
  return { tokens: Int32Array.from({ length: B * (T + 1) }, () => rng.int(256)), batchSize: B, seqLen: T };
}

/** A digest of the exact values (short in failure messages). */
const bits = (a: ArrayLike<number>) =>
  createHash('sha256')
    .update(Buffer.from(Float64Array.from(a).buffer))
    .digest('hex');
const gradNorm = (m: TinyLM) =>
  Math.sqrt(m.parameters().reduce((s, p) => s + Array.from(p.gradView!).reduce((a, g) => a + g * g, 0), 0));

describe('LanguageModelTrainer', () => {
  it('adamw: decay on matrices only; a step equals the hand-written loop with AdamW', async () => {
    const t = (await tinyFactory({
      config: config({ gradClip: 0.5 }),
      vocabSize: 256,
    })) as LanguageModelTrainer;
    const groups = t.optimizer.paramGroups as unknown as {
      params: { shape: number[] }[];
      weightDecay: number;
    }[];
    expect(groups.map((g) => g.weightDecay)).toEqual([0.1, 0]);
    expect(groups[0].params.every((p) => p.shape.length === 2)).toBe(true);
    expect(groups[1].params.every((p) => p.shape.length === 1)).toBe(true);

    const ref = new TinyLM({ seed: DEFAULT_CONFIG.seed });
    const mats = ref.parameters().filter((p) => p.shape.length >= 2);
    const vecs = ref.parameters().filter((p) => p.shape.length < 2);
    const opt = new AdamW(
      [
        { params: mats, weightDecay: 0.1 },
        { params: vecs, weightDecay: 0 },
      ],
      { betas: [0.9, 0.95], eps: 1e-8, fused: true },
    );
    const lrs = [1e-3, 3e-3, 2e-3];
    for (let s = 0; s < 3; s++) {
      const got = t.trainStep(batch(s), lrs[s]);
      opt.zeroGrad();
      const tok = fromTypedArray(batch(s).tokens, [2, 11]);
      const want = ref.lossAndBackward(tok);
      tok.dispose();
      clipGradNorm(ref.parameters(), 0.5);
      for (const g of opt.paramGroups) g.lr = lrs[s];
      opt.step();
      expect(got).toBe(want);
    }
    const tm = t.model as TinyLM;
    expect(bits(tm.head.weight.dataSync())).toBe(bits(ref.head.weight.dataSync()));
    expect(gradNorm(tm)).toBeCloseTo(0.5, 5); // the last step's gradients, clipped
    t.dispose();
    ref.dispose();
  });

  it('without clipping the gradient keeps its norm; muon groups and lrs', async () => {
    const t = (await tinyFactory({
      config: config({ gradClip: 0 }),
      vocabSize: 256,
    })) as LanguageModelTrainer;
    t.trainStep(batch(0), 1e-3);
    expect(gradNorm(t.model as TinyLM)).toBeGreaterThan(0.5);
    const m = (await tinyFactory({
      config: config({ optimizer: 'muon' }),
      vocabSize: 256,
    })) as LanguageModelTrainer;
    expect(m.optimizer).toBeInstanceOf(Muon);
    m.trainStep(batch(0), 3e-3);
    const gs = m.optimizer.paramGroups as unknown as Record<string, unknown>[];
    expect(gs.map((g) => g.useMuon)).toEqual([true, false, false]);
    expect((gs[0].params as { shape: number[] }[]).map((p) => p.shape)).toEqual([[16, 16]]); // fc only
    expect(gs[0].lr).toBeCloseTo(3e-3 * MUON_LR_SCALE, 12);
    expect(gs[1].adamLr).toBe(3e-3);
    t.dispose();
    m.dispose();
  });

  it('save → load into a fresh model gives identical logits and continues identically', async () => {
    const a = (await tinyFactory({ config: config(), vocabSize: 256 })) as LanguageModelTrainer;
    for (let s = 0; s < 2; s++) a.trainStep(batch(s), 2e-3);
    const state = a.save();
    const b = (await tinyFactory({
      config: config({ seed: 5 }),
      vocabSize: 256,
      savedModelConfig: a.modelConfig(),
    })) as LanguageModelTrainer;
    b.load(state);
    const ids = Int32Array.from([84, 104, 101, 32, 119]);
    const sa = a.stream();
    const sb = b.stream();
    expect(bits(sb.feed(ids) as Float32Array)).toBe(bits(sa.feed(ids) as Float32Array));
    expect(bits(sb.feed(Int32Array.of(7)) as Float32Array)).toBe(
      bits(sa.feed(Int32Array.of(7)) as Float32Array),
    );
    expect(b.evalLoss(batch(9))).toBe(a.evalLoss(batch(9)));
    expect(b.trainStep(batch(2), 2e-3)).toBe(a.trainStep(batch(2), 2e-3));
    expect(b.trainStep(batch(3), 2e-3)).toBe(a.trainStep(batch(3), 2e-3));
    expect(() => b.load({ ...state, extra: {} })).toThrow(/optimizer\.safetensors is missing/);
    a.dispose();
    b.dispose();
  });
});

const flags = (dir: string, extra: string[] = []) => [
  'train',
  '--model',
  'tiny',
  '--corpus',
  corpus,
  '--seq-len',
  '12',
  '--batch-size',
  '3',
  '--steps',
  '8',
  '--lr',
  '1e-2',
  '--warmup',
  '2',
  '--eval-interval',
  '4',
  '--eval-batches',
  '2',
  '--checkpoint-interval',
  '3',
  '--checkpoint-dir',
  join(dir, 'ckpt'),
  '--plot-dir',
  dir,
  '--sample-length',
  '16',
  '--num-samples',
  '1',
  ...extra,
];

describe('nl-train with the adapter', () => {
  for (const optimizer of ['adamw', 'muon', 'm3']) {
    it(`${optimizer}: Ctrl-C + resume == the uninterrupted run, bit for bit`, async () => {
      const whole = join(root, `${optimizer}-whole`);
      const w = await run(flags(whole, ['--optimizer', optimizer]), { registry });
      expect(w.err).toBe('');
      expect(w.code).toBe(0);

      const controller = new AbortController();
      let calls = 0;
      const interrupting: ModelRegistry = {
        tiny: async (ctx) => {
          const m = await tinyFactory(ctx);
          const step = m.trainStep.bind(m);
          m.trainStep = (b, lr) => {
            const loss = step(b, lr);
            if (++calls === 5) controller.abort();
            return loss;
          };
          return m;
        },
      };
      const parts = join(root, `${optimizer}-parts`);
      const p1 = await run(flags(parts, ['--optimizer', optimizer]), {
        registry: interrupting,
        signal: controller.signal,
      });
      expect(p1.code).toBe(130);
      const p2 = await run(['train', '--resume', '--checkpoint-dir', join(parts, 'ckpt')], { registry });
      expect(p2.err).toBe('');
      expect(p2.code).toBe(0);

      const a = readCheckpoint(join(whole, 'ckpt'));
      const b = readCheckpoint(join(parts, 'ckpt'));
      expect(b.state.step).toBe(8);
      expect(b.state.history).toEqual(a.state.history);
      expect(Buffer.from(b.model).equals(Buffer.from(a.model))).toBe(true);
      expect(
        Buffer.from(b.extra['optimizer.safetensors']).equals(Buffer.from(a.extra['optimizer.safetensors'])),
      ).toBe(true);
      expect(b.optimizer).toEqual(a.optimizer);
    });
  }

  it('the checkpoint is readable by @nl/hope loadCheckpoint and eval reproduces its bpb', async () => {
    const dir = join(root, 'adamw-whole');
    const ck = loadCheckpoint(join(dir, 'ckpt'), { build: (c) => new TinyLM(c) });
    const m = ck.model as TinyLM;
    const opt = new AdamW(m.parameters());
    expect(() => ck.restoreOptimizer(opt)).toThrow(/group/); // the trainer's AdamW has two groups
    expect(ck.config.model).toEqual({
      kind: 'transformer',
      vocabSize: 256,
      dim: 16,
      layers: 1,
      heads: 1,
      seed: 1337,
    });
    const r = await run(['eval', '--checkpoint-dir', join(dir, 'ckpt')], { registry });
    expect(r.code).toBe(0);
    const last = (ck.state.history as { val: { bpb: number }[] }).val.at(-1)!.bpb;
    expect(r.out).toContain(`: ${last.toFixed(4)} bits per byte`);
    m.dispose();
  });

  it('resuming with another optimizer than the checkpoint holds → exit 1 naming both, checkpoint untouched', async () => {
    const ckpt = join(root, 'adamw-whole', 'ckpt');
    const before = readFileSync(join(ckpt, 'manifest.json'));
    const r = await run(
      ['train', '--resume', '--checkpoint-dir', ckpt, '--optimizer', 'muon', '--steps', '9'],
      {
        registry,
      },
    );
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/optimizer\.json holds AdamW state, but the optimizer is Muon/);
    expect(readFileSync(join(ckpt, 'manifest.json')).equals(before)).toBe(true);
  });

  it('an optimizer the adapter does not build → exit 2, nothing written', async () => {
    const dir = join(root, 'sgd');
    const r = await run(flags(dir, ['--optimizer', 'sgd']), { registry });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/optimizer "sgd" is not one the model adapter builds; use one of adamw, muon, m3/);
    expect(() => readCheckpoint(join(dir, 'ckpt'))).toThrow(/does not exist/);
  });
});
