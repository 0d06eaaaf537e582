// Unit tests of the trainer's pieces: config layering and validation, lr schedules, sampling,
// progress formatting, and the bigram test model's own gradient (so the e2e tests rest on a
// correct model).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, sequentialBatches } from '@nl/hope';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CONFIG_FIELDS,
  ConfigError,
  DEFAULT_CONFIG,
  parseFlagValues,
  readConfigFile,
  resolveConfig,
  toFlag,
} from '../src/config.js';
import { evalBatches } from '../src/evaluate.js';
import { LineReporter, formatDuration } from '../src/progress.js';
import { pickToken } from '../src/sample.js';
import { learningRate } from '../src/schedule.js';
import { BigramLM } from './bigram-model.js';

const tmp = mkdtempSync(join(tmpdir(), 'nl-trainer-unit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('config', () => {
  it('every default passes its own validation and the table is the only source', () => {
    expect(resolveConfig({})).toEqual({
      ...DEFAULT_CONFIG,
      checkpointDir: 'runs/hope-tiny/checkpoint',
      plotDir: 'runs/hope-tiny',
    });
    expect(Object.keys(DEFAULT_CONFIG).sort()).toEqual(Object.keys(CONFIG_FIELDS).sort());
    expect(DEFAULT_CONFIG.model).toBe('hope-tiny');
    expect(DEFAULT_CONFIG.corpus).toBe('sotu');
  });

  it('{model} in checkpointDir and plotDir becomes the model name', () => {
    const c = resolveConfig({ ...DEFAULT_CONFIG }, parseFlagValues({ model: 'transformer-tiny' }));
    expect([c.checkpointDir, c.plotDir]).toEqual([
      'runs/transformer-tiny/checkpoint',
      'runs/transformer-tiny',
    ]);
    const d = resolveConfig({ ...DEFAULT_CONFIG }, parseFlagValues({ plotDir: 'out/{model}-{model}' }));
    expect(d.plotDir).toBe('out/hope-tiny-hope-tiny');
  });

  it('layers: base < file < flags; flags are parsed from strings', () => {
    const f = join(tmp, 'a.json');
    writeFileSync(f, JSON.stringify({ lr: 0.5, steps: 7, corpus: 'moby-dick' }));
    const c = resolveConfig(
      { ...DEFAULT_CONFIG },
      readConfigFile(f),
      parseFlagValues({ steps: '9', seqLen: '32' }),
    );
    expect([c.lr, c.steps, c.corpus, c.seqLen, c.batchSize]).toEqual([
      0.5,
      9,
      'moby-dick',
      32,
      DEFAULT_CONFIG.batchSize,
    ]);
    expect(toFlag('checkpointInterval')).toBe('checkpoint-interval');
  });

  it('unknown keys and bad values name the key and the source', () => {
    const f = join(tmp, 'b.json');
    writeFileSync(f, JSON.stringify({ lr: 0.1, learningRate: 3 }));
    expect(() => readConfigFile(f)).toThrow(/unknown config key "learningRate" in .*b\.json/);
    writeFileSync(f, JSON.stringify({ steps: '10' }));
    expect(() => readConfigFile(f)).toThrow(/"steps" \(.*b\.json\) must be an integer >= 1, got "10"/);
    writeFileSync(f, '[1]');
    expect(() => readConfigFile(f)).toThrow(/must hold a JSON object/);
    writeFileSync(f, '{lr: 1}');
    expect(() => readConfigFile(f)).toThrow(/not valid JSON/);
    expect(() => readConfigFile(join(tmp, 'missing.json'))).toThrow(/cannot read config file/);
    expect(() => parseFlagValues({ lr: 'fast' })).toThrow(/"lr" \(--lr\) must be a number > 0, got "fast"/);
    expect(() => parseFlagValues({ lr: '0' })).toThrow(/"lr"/);
    expect(() => parseFlagValues({ batchSize: '2.5' })).toThrow(
      /"batchSize" \(--batch-size\) must be an integer/,
    );
    expect(() => parseFlagValues({ schedule: 'step' })).toThrow(/one of cosine, linear, constant/);
    expect(() => parseFlagValues({ valFraction: '0.7' })).toThrow(/<= 0.5/);
    expect(() => parseFlagValues({ device: 'gpu' })).toThrow(/'cpu', 'cuda'/);
    expect(() => parseFlagValues({ steps: '' })).toThrow(/"steps"/);
    expect(() => parseFlagValues({ lr: '0' })).toThrow(ConfigError);
  });
});

describe('learningRate', () => {
  const cfg = { lr: 1, steps: 101, warmup: 10, schedule: 'cosine', minLrRatio: 0.1 };
  it('warms up linearly then decays by cosine to minLrRatio at the last step', () => {
    expect(learningRate(0, cfg)).toBeCloseTo(0.1);
    expect(learningRate(9, cfg)).toBeCloseTo(1);
    expect(learningRate(10, cfg)).toBeCloseTo(1);
    expect(learningRate(55, cfg)).toBeCloseTo(0.55);
    expect(learningRate(100, cfg)).toBeCloseTo(0.1);
    for (let s = 11; s <= 100; s++) expect(learningRate(s, cfg)).toBeLessThan(learningRate(s - 1, cfg));
  });
  it('linear and constant', () => {
    expect(learningRate(55, { ...cfg, schedule: 'linear' })).toBeCloseTo(0.55);
    expect(learningRate(100, { ...cfg, schedule: 'linear' })).toBeCloseTo(0.1);
    expect(learningRate(80, { ...cfg, schedule: 'constant' })).toBe(1);
    expect(learningRate(0, { ...cfg, warmup: 0, schedule: 'constant' })).toBe(1);
  });
});

describe('pickToken', () => {
  const logits = Float32Array.from({ length: 256 }, (_, i) =>
    i === 65 ? 5 : i === 66 ? 4 : i === 67 ? 3 : 0,
  );
  it('greedy picks the arg max', () => expect(pickToken(logits, 0, 0, Rng.fromSeed(1))).toBe(65));
  it('topK restricts the support; frequencies follow the softmax', () => {
    const rng = Rng.fromSeed(3);
    const counts = new Map<number, number>();
    for (let i = 0; i < 4000; i++) {
      const t = pickToken(logits, 1, 2, rng);
      counts.set(t, (counts.get(t) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([65, 66]);
    expect(counts.get(65)! / 4000).toBeCloseTo(Math.E / (Math.E + 1), 1);
  });
  it('same seed, same draws', () => {
    const draw = (seed: number) => {
      const r = Rng.fromSeed(seed);
      return Array.from({ length: 50 }, () => pickToken(logits, 2, 0, r));
    };
    expect(draw(5)).toEqual(draw(5));
    expect(draw(5)).not.toEqual(draw(6));
  });
});

describe('progress', () => {
  it('formats durations and logs every N steps plus the last', () => {
    expect([formatDuration(4), formatDuration(65), formatDuration(3725)]).toEqual([
      '4s',
      '1m05s',
      '1h02m05s',
    ]);
    const lines: string[] = [];
    const r = new LineReporter((s) => lines.push(s), 3);
    r.start(7);
    for (let s = 1; s <= 7; s++) r.step({ step: s, loss: 1, lr: 0.1, tokensPerSec: 100, etaSec: 7 - s });
    expect(lines.map((l) => l.split(' ')[1])).toEqual(['3/7', '6/7', '7/7']);
    expect(lines[0]).toBe('step 3/7 | loss 1.0000 | lr 1.00e-1 | 100 tok/s | eta 4s\n');
  });
});

describe('BigramLM (test model)', () => {
  it('gradient matches finite differences and one step lowers the loss', () => {
    const m = new BigramLM(0);
    const tokens = Int32Array.from([1, 2, 3, 1, 2, 1, 1, 3]);
    const batch = { tokens, batchSize: 2, seqLen: 3 };
    const base = m.evalLoss(batch);
    expect(base).toBeCloseTo(Math.log(256), 5);
    const eps = 1e-2;
    m.W[1 * 256 + 2] += eps;
    const up = m.evalLoss(batch);
    m.W[1 * 256 + 2] -= eps;
    // d loss / d W[1,2]: pairs with x=1 are (1,2), (1,1), (1,3): 3 of N=6, one with y=2
    const analytic = (3 / 256 - 1) / 6;
    expect((up - base) / eps).toBeCloseTo(analytic, 2);
    const l0 = m.trainStep(batch, 1);
    expect(l0).toBeCloseTo(base, 6);
    expect(m.W[1 * 256 + 2]).toBeCloseTo(-analytic, 6); // W -= lr * grad from zero
    expect(m.evalLoss(batch)).toBeLessThan(base);
  });
});

describe('evalBatches', () => {
  // 10 windows of T = 4 over 41 bytes: window w covers bytes [4w, 4w + 5)
  const data = Uint8Array.from({ length: 41 }, (_, i) => i);
  const starts = (bs: Iterable<{ tokens: Int32Array; batchSize: number; seqLen: number }>) =>
    [...bs].flatMap((b) => Array.from({ length: b.batchSize }, (_, r) => b.tokens[r * (b.seqLen + 1)]));

  it('all windows (maxBatches 0 or enough) equal @nl/hope sequentialBatches', () => {
    const all = starts(sequentialBatches(data, 3, 4));
    expect(all).toEqual([0, 4, 8, 12, 16, 20, 24, 28, 32, 36]);
    expect(starts(evalBatches(data, 3, 4, 0))).toEqual(all);
    expect(starts(evalBatches(data, 3, 4, 4))).toEqual(all);
    const rows = [...evalBatches(data, 3, 4, 0)].map((b) => b.batchSize);
    expect(rows).toEqual([3, 3, 3, 1]);
    const last = [...evalBatches(data, 3, 4, 0)][3];
    expect(Array.from(last.tokens)).toEqual([36, 37, 38, 39, 40]);
  });

  it('fewer batches spread their windows over the whole set', () => {
    expect(starts(evalBatches(data, 2, 4, 1))).toEqual([0, 20]); // windows 0 and 5 of 10
    expect(starts(evalBatches(data, 2, 4, 2))).toEqual([0, 8, 20, 28]); // windows 0, 2, 5, 7
  });
});
