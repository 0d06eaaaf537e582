import { describe, expect, it } from 'vitest';
import { DeltaNetLM, deltaNetParamCount } from '../src/models/deltanet.js';
import {
  expectCausal,
  expectConstructionLeavesOnlyState,
  expectDecoderMatchesForward,
  expectGradsMatchFiniteDifferences,
  expectNoLeaks,
  expectSaveLoadRoundTrip,
  expectToFloat64,
  forwardRows,
  maxDiff,
  overfit,
  randomIds,
} from './models-helpers.js';

const tiny = { vocabSize: 13, dim: 16, layers: 2, heads: 2 } as const;
const f64 = (seed: number, extra: object = {}) =>
  new DeltaNetLM({ ...tiny, dtype: 'float64', seed, ...extra });

describe('DeltaNetLM', () => {
  it('forward gives logits [B, T, V]; parameter count matches the analytic count', () => {
    const m = new DeltaNetLM({ ...tiny, seed: 1 });
    expect(m.forward(randomIds(3, 5, 13, 0)).shape).toEqual([3, 5, 13]);
    expect(m.numParameters()).toBe(deltaNetParamCount(m.config));
    const learned = new DeltaNetLM({ ...tiny, seed: 1, learnInit: true });
    expect(learned.numParameters()).toBe(m.numParameters() + 2 * 2 * 8 * 8);
    expect(learned.numParameters()).toBe(deltaNetParamCount(learned.config));
  });

  it("impl 'fused' (native chunked kernel) equals the token loop", () => {
    const ids = Int32Array.from(randomIds(1, 19, 13, 1).dataSync());
    const a = forwardRows(f64(2, { impl: 'fused', chunkSize: 4 }), ids);
    const b = forwardRows(f64(2, { impl: 'loop' }), ids);
    expect(maxDiff(a, b)).toBeLessThan(1e-10);
  });

  it('streaming decoder (memory state + conv cache) equals teacher-forced logits', () => {
    const m = f64(3);
    const ids = Int32Array.from(randomIds(1, 11, 13, 4).dataSync());
    expectDecoderMatchesForward(m, ids, Array(11).fill(1), 1e-9);
    expectDecoderMatchesForward(m, ids, [2, 5, 1, 3], 1e-9);
  });

  it('float32: streaming decoder equals teacher-forced logits to float32 rounding', () => {
    const m = new DeltaNetLM({ ...tiny, seed: 5 });
    const ids = Int32Array.from(randomIds(1, 40, 13, 14).dataSync());
    expectDecoderMatchesForward(m, ids, [17, 1, 22], 1e-4);
  });

  it('is causal: a changed token never changes earlier logits', () => {
    const m = f64(3);
    const ids = Int32Array.from(randomIds(1, 9, 13, 5).dataSync());
    expectCausal(m, ids, 3);
    expectCausal(m, ids, 8);
  });

  it('overfits a fixed batch with AdamW', () => {
    const m = new DeltaNetLM({ ...tiny, seed: 7 });
    const losses = overfit(m, randomIds(2, 17, 13, 8), 25);
    expect(losses[0]).toBeGreaterThan(Math.log(13) - 0.3);
    expect(losses[24]!).toBeLessThan(0.5 * losses[0]!);
  });

  it('lossAndBackward gradients equal finite differences (float64), gates and memory init included', () => {
    const m = f64(9, { learnInit: true });
    expectGradsMatchFiniteDifferences(m, randomIds(2, 6, 13, 10), [
      'layers.0.qkv.proj.weight',
      'layers.0.qkv.conv.weight',
      'layers.0.alphaProj.weight',
      'layers.1.betaProj.weight',
      'layers.0.aLog',
      'layers.1.dtBias',
      'layers.0.memory.m0',
      'layers.1.out.gate.weight',
      'layers.0.out.norm.weight',
      'embed.weight',
    ]);
  });

  it('stateDict → safetensors bytes → fresh model gives identical logits', () => {
    const ids = Int32Array.from(randomIds(1, 7, 13, 11).dataSync());
    expectSaveLoadRoundTrip(f64(1), f64(2), ids);
  });

  it("to('float64') converts a float32 model without changing its function", () => {
    expectToFloat64(
      new DeltaNetLM({ ...tiny, seed: 2 }),
      Int32Array.from(randomIds(1, 8, 13, 13).dataSync()),
    );
  });

  it('construction leaves only parameters and buffers alive', () => {
    expectConstructionLeavesOnlyState(() => new DeltaNetLM({ ...tiny, seed: 1, tieEmbeddings: true }));
  });

  it('does not leak tensors across training, evaluation and decoding', () => {
    expectNoLeaks(new DeltaNetLM({ ...tiny, seed: 1 }), randomIds(2, 9, 13, 12));
  });

  it('bad configs give clear errors', () => {
    expect(() => new DeltaNetLM({ ...tiny, dim: 15 })).toThrow(
      /DeltaNetLM config: dim \(15\) must be divisible by heads \(2\)/,
    );
    expect(() => new DeltaNetLM({ ...tiny, convSize: 0 })).toThrow(/convSize must be a positive integer/);
    expect(() => new DeltaNetLM({ ...tiny, impl: 'gpu' } as never)).toThrow(/impl must be 'fused' or 'loop'/);
    expect(() => new DeltaNetLM({ ...tiny, vocabSize: 0 })).toThrow(/vocabSize must be a positive integer/);
  });
});
