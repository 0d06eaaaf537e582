/**
 * Contract checks shared by the baseline model tests (models-*.test.ts): each takes a model (or
 * a factory) and asserts behaviour against an independent reference — teacher-forced logits,
 * finite differences, a byte-level round trip. Not a test file itself.
 */
import { AdamW } from '@nl/optim';
import { Generator, io, memory, noGrad, randint, tensor, type Tensor } from '@nl/tensor';
import { expect } from 'vitest';
import type { LanguageModel } from '../src/models/contract.js';
import type { StreamDecoder } from '../src/models/stream-decoder.js';

/** Random Int32 ids [b, t] in [0, v) from a seeded generator. */
export function randomIds(b: number, t: number, v: number, seed: number): Tensor {
  return randint(0, v, [b, t], { generator: new Generator(seed) });
}

/** Largest |a − b| over two equal-length arrays. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Teacher-forced logits of one sequence as a flat array [T·V]. */
export function forwardRows(model: LanguageModel, ids: Int32Array): Float64Array {
  return noGrad(() => {
    const x = tensor(Array.from(ids), { shape: [1, ids.length], dtype: 'int32' });
    const y = model.forward(x);
    const out = Float64Array.from(y.dataSync());
    x.dispose();
    y.dispose();
    return out;
  });
}

/**
 * Streams `ids` through a decoder cut into pieces of the given sizes; the concatenated step
 * logits must equal the teacher-forced rows to `tol`, and `feed` (Float32) its last row.
 */
export function expectDecoderMatchesForward(
  model: LanguageModel,
  ids: Int32Array,
  pieces: number[],
  tol: number,
): void {
  const ref = forwardRows(model, ids);
  const v = model.config.vocabSize;
  const dec = model.decoder() as StreamDecoder;
  const got: number[] = [];
  let at = 0;
  for (const n of pieces) {
    const lg = dec.step(ids.subarray(at, at + n));
    got.push(...lg.dataSync());
    lg.dispose();
    at += n;
  }
  expect(at).toBe(ids.length);
  expect(dec.position).toBe(ids.length);
  expect(maxDiff(ref, got)).toBeLessThan(tol);
  dec.dispose();
  // feed(): Float32 logits of the last position only.
  const dec2 = model.decoder();
  let last: Float32Array = new Float32Array(0);
  for (let i = 0; i < ids.length; i++) last = dec2.feed(ids.subarray(i, i + 1));
  expect(maxDiff(ref.subarray((ids.length - 1) * v), last)).toBeLessThan(1e-5);
  dec2.dispose();
}

/** Changing the token at position `at` leaves every earlier row unchanged and changes row `at`. */
export function expectCausal(model: LanguageModel, ids: Int32Array, at: number): void {
  const v = model.config.vocabSize;
  const a = forwardRows(model, ids);
  const changed = Int32Array.from(ids);
  changed[at] = (changed[at]! + 1) % v;
  const b = forwardRows(model, changed);
  expect(maxDiff(a.subarray(0, at * v), b.subarray(0, at * v))).toBe(0);
  expect(maxDiff(a.subarray(at * v), b.subarray(at * v))).toBeGreaterThan(1e-6);
}

/** AdamW on one fixed batch: returns the losses of `steps` steps. */
export function overfit(model: LanguageModel, batch: Tensor, steps: number, lr = 1e-2): number[] {
  const opt = new AdamW(model.parameters(), { lr, weightDecay: 0 });
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    opt.zeroGrad();
    losses.push(model.lossAndBackward(batch));
    opt.step();
  }
  return losses;
}

/** Weights → safetensors bytes → a fresh model (other init) → identical logits. */
export function expectSaveLoadRoundTrip(model: LanguageModel, fresh: LanguageModel, ids: Int32Array): void {
  const bytes = io.save(null, model.stateDict());
  const before = forwardRows(fresh, ids);
  const ref = forwardRows(model, ids);
  expect(maxDiff(before, ref)).toBeGreaterThan(1e-6); // a different init really differs
  const loaded = io.load(bytes);
  fresh.loadStateDict(loaded);
  for (const t of Object.values(loaded)) t.dispose();
  expect(maxDiff(forwardRows(fresh, ids), ref)).toBe(0);
}

/**
 * lossAndBackward's gradient against central finite differences of evalLoss (float64 model) on
 * `count` entries of each named parameter.
 */
export function expectGradsMatchFiniteDifferences(
  model: LanguageModel,
  batch: Tensor,
  names: string[],
  count = 3,
  eps = 1e-5,
  minGrad = 1e-6,
): void {
  const params = new Map(model.namedParameters());
  model.zeroGrad();
  model.lossAndBackward(batch);
  for (const name of names) {
    const p = params.get(name);
    if (p === undefined) throw new Error(`no parameter ${name} (have ${[...params.keys()].join(', ')})`);
    const g = p.gradView;
    expect(g, `${name} has a gradient`).not.toBeNull();
    const n = p.view.length;
    let biggest = 0;
    for (let j = 0; j < count; j++) {
      const i = Math.floor(((j + 0.5) * n) / count);
      const x0 = p.view[i]!;
      p.view[i] = x0 + eps;
      const up = model.evalLoss(batch);
      p.view[i] = x0 - eps;
      const down = model.evalLoss(batch);
      p.view[i] = x0;
      const fd = (up - down) / (2 * eps);
      biggest = Math.max(biggest, Math.abs(fd));
      expect(Math.abs(fd - g![i]!), `${name}[${i}]: fd ${fd} vs ${g![i]}`).toBeLessThan(
        1e-8 + 1e-4 * Math.abs(fd),
      );
    }
    expect(biggest, `${name} influences the loss`).toBeGreaterThan(minGrad);
  }
  model.zeroGrad();
}

/** memory().numTensors after warm-up stays flat across training, evaluation and decoding. */
export function expectNoLeaks(model: LanguageModel, batch: Tensor): void {
  const ids = Int32Array.from(batch.dataSync()).subarray(0, 4);
  const round = (): void => {
    model.lossAndBackward(batch);
    model.evalLoss(batch);
    const dec = model.decoder();
    dec.feed(ids.subarray(0, 2));
    dec.feed(ids.subarray(2, 4));
    dec.dispose();
  };
  round();
  const before = memory().numTensors;
  round();
  round();
  expect(memory().numTensors).toBe(before);
  model.zeroGrad();
}

/** A float32 model converted with `to('float64')` keeps its function (and its decoder works). */
export function expectToFloat64(model: LanguageModel, ids: Int32Array): void {
  const before = forwardRows(model, ids);
  model.to('float64');
  expect(model.config.dtype).toBe('float64');
  expect(model.parameters().every((p) => p.dtype === 'float64')).toBe(true);
  const after = forwardRows(model, ids);
  expect(maxDiff(before, after)).toBeLessThan(1e-4);
  expectDecoderMatchesForward(model, ids, [2, ids.length - 2], 1e-9);
}

/** Building a model leaves exactly its parameters and buffers alive (no leaked temporaries). */
export function expectConstructionLeavesOnlyState(build: () => LanguageModel): void {
  const before = memory().numTensors;
  const model = build();
  const own = new Set(Object.values(model.stateDict())).size;
  expect(memory().numTensors - before).toBe(own);
}
