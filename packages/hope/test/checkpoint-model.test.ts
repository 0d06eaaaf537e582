// saveCheckpoint / loadCheckpoint with a real LanguageModel (TinyLM, test/tiny-lm.ts) and real
// @nl/optim optimizers: save → load gives bit-identical logits; training resumed from a
// checkpoint equals the uninterrupted run bit for bit (AdamW fused, Muon, M3); missing, corrupt
// and mismatched checkpoints fail with errors naming the problem and leave the folder untouched.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdamW, M3, Muon, SGD } from '@nl/optim';
import { fromTypedArray, io, tidy } from '@nl/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CheckpointError,
  Rng,
  TransformerLM,
  buildModel,
  type LanguageModel,
  loadCheckpoint,
  readCheckpoint,
  saveCheckpoint,
  type AnyOptimizer,
} from '../src/index.js';
import { TinyLM, type TinyLMConfig } from './tiny-lm.js';

const root = mkdtempSync(join(tmpdir(), 'nl-ckpt-model-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const models: TinyLM[] = [];
/** A TinyLM disposed after the tests. */
const tiny = (c: Partial<TinyLMConfig> = {}) => {
  const m = new TinyLM(c);
  models.push(m);
  return m;
};
afterAll(() => models.forEach((m) => m.dispose()));
const build = (c: TinyLMConfig | Record<string, unknown>) => tiny(c as TinyLMConfig);

/** A deterministic batch Int32 [B, T+1] from a seed. */
function batch(seed: number, B = 3, T = 12) {
  const rng = Rng.fromSeed(seed);
  const ids = Int32Array.from({ length: B * (T + 1) }, () => rng.int(256));
  return fromTypedArray(ids, [B, T + 1]);
}

function logitsOf(m: TinyLM): Float32Array {
  return tidy(() => m.forward(batch(99).slice(1, 0, 12).contiguous()).dataSync() as Float32Array);
}

const bits = (a: ArrayLike<number>) => Buffer.from(Float64Array.from(a).buffer).toString('hex');

function trainSteps(m: TinyLM, opt: AnyOptimizer, from: number, to: number): number[] {
  const losses: number[] = [];
  for (let s = from; s < to; s++) {
    opt.zeroGrad();
    const b = batch(s);
    losses.push(m.lossAndBackward(b));
    b.dispose();
    opt.step();
  }
  return losses;
}

const optimizers: Record<string, (m: TinyLM) => AnyOptimizer> = {
  'AdamW (fused)': (m) => new AdamW(m.parameters(), { lr: 1e-2, weightDecay: 0.1, fused: true }),
  Muon: (m) => new Muon(m.parameters(), { lr: 0.02, adamLr: 1e-2 }),
  M3: (m) => new M3(m.parameters(), { lr: 1e-2, frequency: 2 }),
};

describe('saveCheckpoint / loadCheckpoint', () => {
  it('save → load (built from config.json) gives bit-identical logits and the saved metadata', () => {
    const a = tiny({ seed: 3 });
    const dir = join(root, 'logits');
    saveCheckpoint(dir, { model: a, step: 5, rng: [1, 2], config: { note: 'x' }, state: { extra: 7 } });
    const ck = loadCheckpoint(dir, { build: (c) => build({ ...c, seed: 4 }) }); // other init, same weights
    expect(bits(logitsOf(ck.model))).toBe(bits(logitsOf(a)));
    expect(ck.step).toBe(5);
    expect(ck.rng).toEqual([1, 2]);
    expect(ck.config).toEqual({ note: 'x', model: a.config });
    expect(ck.state.extra).toBe(7);
    expect(ck.hasOptimizerState).toBe(false);
    expect(() => ck.restoreOptimizer(new SGD(ck.model.parameters(), { lr: 1 }))).toThrow(
      /holds no optimizer state/,
    );
    // model.safetensors is a plain safetensors file of the state dict
    const t = io.load(readFileSync(join(dir, 'model.safetensors')));
    expect(Object.keys(t).sort()).toEqual(Object.keys(a.stateDict()).sort());
    expect(bits(t['head.weight'].dataSync())).toBe(bits(a.head.weight.dataSync()));
    expect(tiny({ seed: 4 }).head.weight.dataSync()).not.toEqual(a.head.weight.dataSync());
  });

  for (const [name, make] of Object.entries(optimizers)) {
    it(`resume from a checkpoint == uninterrupted run, bit for bit (${name})`, () => {
      const whole = tiny({ seed: 1 });
      const wholeLosses = trainSteps(whole, make(whole), 0, 6);

      const first = tiny({ seed: 1 });
      const opt = make(first);
      const lossesA = trainSteps(first, opt, 0, 3);
      const dir = join(root, `resume-${name.replace(/\W/g, '')}`);
      saveCheckpoint(dir, { model: first, optimizer: opt, step: 3 });
      first.head.weight.view.fill(0); // the checkpoint must not alias the live model

      const ck = loadCheckpoint(dir, { build });
      const opt2 = make(ck.model);
      ck.restoreOptimizer(opt2);
      const lossesB = trainSteps(ck.model, opt2, ck.step, 6);
      expect(bits([...lossesA, ...lossesB])).toBe(bits(wholeLosses));
      expect(bits(logitsOf(ck.model))).toBe(bits(logitsOf(whole)));
      expect(readCheckpoint(dir).optimizer.name).toBe(opt.name);
    });
  }

  it('restores into a given model and optimizer', () => {
    const a = tiny({ seed: 5 });
    const opt = new AdamW(a.parameters(), { lr: 1e-2 });
    trainSteps(a, opt, 0, 2);
    const dir = join(root, 'into');
    saveCheckpoint(dir, { model: a, optimizer: opt, step: 2 });
    const b = tiny({ seed: 6 });
    const optB = new AdamW(b.parameters(), { lr: 1e-2 });
    const ck = loadCheckpoint(dir, { model: b, optimizer: optB });
    expect(ck.model).toBe(b);
    expect(bits(logitsOf(b))).toBe(bits(logitsOf(a)));
    expect(trainSteps(b, optB, 2, 4)).toEqual(trainSteps(a, opt, 2, 4));
  });
});

describe('with TransformerLM, built by buildModel', () => {
  it('save → load gives identical logits; resume == uninterrupted run, bit for bit', () => {
    const cfg = { kind: 'transformer' as const, vocabSize: 256, dim: 32, layers: 2, heads: 2, seed: 11 };
    const tokens = batch(99).slice(1, 0, 12).contiguous();
    const logits = (m: LanguageModel) => tidy(() => m.forward(tokens).dataSync());
    const make = (m: LanguageModel) => new AdamW(m.parameters(), { lr: 3e-3, fused: true });
    const train = (m: LanguageModel, opt: AnyOptimizer, from: number, to: number) => {
      const out: number[] = [];
      for (let s = from; s < to; s++) {
        opt.zeroGrad();
        const b = batch(s);
        out.push(m.lossAndBackward(b));
        b.dispose();
        opt.step();
      }
      return out;
    };
    const whole = buildModel(cfg);
    const wholeLosses = train(whole, make(whole), 0, 4);

    const first = buildModel(cfg);
    const opt = make(first);
    const a = train(first, opt, 0, 2);
    const dir = join(root, 'transformer');
    saveCheckpoint(dir, { model: first, optimizer: opt, step: 2 });
    const ck = loadCheckpoint(dir); // default builder: buildModel(config.model)
    expect(ck.model).toBeInstanceOf(TransformerLM);
    expect(ck.model.config).toEqual(first.config);
    expect(bits(logits(ck.model))).toBe(bits(logits(first)));
    const opt2 = make(ck.model);
    ck.restoreOptimizer(opt2);
    const b = train(ck.model, opt2, 2, 4);
    expect(bits([...a, ...b])).toBe(bits(wholeLosses));
    expect(bits(logits(ck.model))).toBe(bits(logits(whole)));
    for (const m of [whole, first, ck.model]) m.dispose();
    tokens.dispose();
  });
});

describe('loadCheckpoint errors', () => {
  const dir = join(root, 'errors');
  const a = tiny({ seed: 2 });
  const opt = new AdamW(a.parameters(), { lr: 1e-2 });
  trainSteps(a, opt, 0, 1);
  saveCheckpoint(dir, { model: a, optimizer: opt, step: 1 });

  it('missing folder', () => {
    expect(() => loadCheckpoint(join(root, 'nowhere'), { build })).toThrow(
      /checkpoint: .*nowhere does not exist/,
    );
  });

  it('corrupt weights are reported by file and the folder is left as it was', () => {
    const f = join(dir, 'model.safetensors');
    const good = readFileSync(f);
    const bad = Buffer.from(good);
    bad[bad.length - 3] ^= 0x40;
    writeFileSync(f, bad);
    try {
      expect(() => loadCheckpoint(dir, { build })).toThrow(/model\.safetensors does not match its SHA-256/);
      expect(readFileSync(f).equals(bad)).toBe(true);
    } finally {
      writeFileSync(f, good);
    }
    writeFileSync(join(dir, 'optimizer.safetensors'), 'x');
    try {
      expect(() => loadCheckpoint(dir, { build })).toThrow(/optimizer\.safetensors has 1 bytes/);
    } finally {
      rmSync(join(dir, 'optimizer.safetensors'));
      saveCheckpoint(dir, { model: a, optimizer: opt, step: 1 });
    }
  });

  it('a model or optimizer that does not fit', () => {
    expect(() => loadCheckpoint(dir, { model: tiny({ dim: 8 }) })).toThrow(
      /config differs from the given model's in dim/,
    );
    expect(() => loadCheckpoint(dir, { build: (c) => build({ ...c, dim: 8 }) })).toThrow(
      /model\.safetensors does not fit the model: loadStateDict: 'emb\.weight' has shape \[256, 16\] in the state dict but \[256, 8\]/,
    );
    expect(() => loadCheckpoint(dir, { build: () => build({ layers: 2 }) })).toThrow(
      /cannot build the model of .*config\.json: TinyLM: layers must be 1/,
    );
    const b = tiny();
    expect(() => loadCheckpoint(dir, { model: b, optimizer: new Muon(b.parameters()) })).toThrow(
      /optimizer\.json holds AdamW state, but the optimizer is Muon/,
    );
    const grouped = new AdamW([{ params: b.parameters().slice(0, 2) }, { params: b.parameters().slice(2) }]);
    expect(() => loadCheckpoint(dir, { model: b, optimizer: grouped })).toThrow(
      /optimizer state does not fit the optimizer: .*1 groups, optimizer has 2/,
    );
    // TinyLM says kind 'transformer': the default builder makes a TransformerLM, whose weights differ
    expect(() => loadCheckpoint(dir)).toThrow(
      /model\.safetensors does not fit the model: loadStateDict: missing key/,
    );
  });

  it('bad save arguments', () => {
    expect(() => saveCheckpoint(join(root, 'bad'), { model: a, config: { model: 1 } })).toThrow(
      CheckpointError,
    );
    expect(() => saveCheckpoint(join(root, 'bad'), { model: a, step: -1 })).toThrow(
      /state\.step must be a non-negative integer/,
    );
  });
});
