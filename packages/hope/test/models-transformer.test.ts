import { tensor } from '@nl/tensor';
import { describe, expect, it } from 'vitest';
import { TransformerLM, transformerParamCount, resolveTransformerConfig } from '../src/models/transformer.js';
import { applyRope } from '../src/models/rope.js';
import {
  expectCausal,
  expectConstructionLeavesOnlyState,
  expectDecoderMatchesForward,
  expectGradsMatchFiniteDifferences,
  expectNoLeaks,
  expectSaveLoadRoundTrip,
  expectToFloat64,
  maxDiff,
  overfit,
  randomIds,
} from './models-helpers.js';

const tiny = { vocabSize: 13, dim: 16, layers: 2, heads: 2 } as const;
const f64 = (seed: number) => new TransformerLM({ ...tiny, dtype: 'float64', seed });

describe('TransformerLM', () => {
  it('forward gives logits [B, T, V]; parameter count matches the analytic count', () => {
    const m = new TransformerLM({ ...tiny, seed: 1 });
    const y = m.forward(randomIds(3, 5, 13, 0));
    expect(y.shape).toEqual([3, 5, 13]);
    expect(y.dtype).toBe('float32');
    expect(m.numParameters()).toBe(transformerParamCount(m.config));
    const tied = new TransformerLM({ ...tiny, tieEmbeddings: true, seed: 1 });
    expect(tied.numParameters()).toBe(m.numParameters() - 13 * 16);
    expect(tied.numParameters()).toBe(transformerParamCount(tied.config));
  });

  it('same seed gives the same weights, another seed different ones', () => {
    const ids = Int32Array.from(randomIds(1, 6, 13, 2).dataSync());
    const a = f64(5);
    const b = f64(5);
    const c = f64(6);
    const ya = a.forward(tensor(Array.from(ids), { shape: [1, 6], dtype: 'int32' })).dataSync();
    const yb = b.forward(tensor(Array.from(ids), { shape: [1, 6], dtype: 'int32' })).dataSync();
    const yc = c.forward(tensor(Array.from(ids), { shape: [1, 6], dtype: 'int32' })).dataSync();
    expect(maxDiff(ya, yb)).toBe(0);
    expect(maxDiff(ya, yc)).toBeGreaterThan(1e-6);
  });

  it('streaming decoder (KV cache) equals teacher-forced logits, token by token and in pieces', () => {
    const m = f64(3);
    const ids = Int32Array.from(randomIds(1, 11, 13, 4).dataSync());
    expectDecoderMatchesForward(m, ids, Array(11).fill(1), 1e-9);
    expectDecoderMatchesForward(m, ids, [4, 1, 6], 1e-9);
  });

  it('float32: streaming decoder equals teacher-forced logits to float32 rounding', () => {
    const m = new TransformerLM({ ...tiny, seed: 5 });
    const ids = Int32Array.from(randomIds(1, 40, 13, 14).dataSync());
    expectDecoderMatchesForward(m, ids, [17, 1, 22], 1e-4);
  });

  it('is causal: a changed token never changes earlier logits', () => {
    const m = f64(3);
    const ids = Int32Array.from(randomIds(1, 9, 13, 5).dataSync());
    expectCausal(m, ids, 4);
    expectCausal(m, ids, 8);
  });

  it('overfits a fixed batch with AdamW', () => {
    const m = new TransformerLM({ ...tiny, seed: 7 });
    const batch = randomIds(2, 17, 13, 8);
    const losses = overfit(m, batch, 25);
    expect(losses[0]).toBeGreaterThan(Math.log(13) - 0.3);
    expect(losses[24]!).toBeLessThan(0.5 * losses[0]!);
  });

  it('lossAndBackward gradients equal finite differences (float64)', () => {
    const m = f64(9);
    const batch = randomIds(2, 6, 13, 10);
    expectGradsMatchFiniteDifferences(m, batch, [
      'embed.weight',
      'layers.0.q.weight',
      'layers.1.k.weight',
      'layers.0.mlp.up.weight',
      'layers.1.norm1.weight',
      'head.weight',
    ]);
  });

  it('tied embeddings: one tensor serves embedding and head; its gradient sums both uses', () => {
    const m = new TransformerLM({ ...tiny, dtype: 'float64', seed: 4, tieEmbeddings: true });
    expect(m.head.weight).toBe(m.embed.weight);
    expect(m.namedParameters().some(([n]) => n.startsWith('head'))).toBe(false);
    expectGradsMatchFiniteDifferences(m, randomIds(2, 5, 13, 6), ['embed.weight'], 5);
  });

  it('stateDict → safetensors bytes → fresh model gives identical logits', () => {
    const ids = Int32Array.from(randomIds(1, 7, 13, 11).dataSync());
    expectSaveLoadRoundTrip(f64(1), f64(2), ids);
  });

  it("to('float64') converts a float32 model without changing its function", () => {
    expectToFloat64(
      new TransformerLM({ ...tiny, seed: 2 }),
      Int32Array.from(randomIds(1, 8, 13, 13).dataSync()),
    );
  });

  it('construction leaves only parameters and buffers alive', () => {
    expectConstructionLeavesOnlyState(() => new TransformerLM({ ...tiny, seed: 1, tieEmbeddings: true }));
  });

  it('does not leak tensors across training, evaluation and decoding', () => {
    expectNoLeaks(new TransformerLM({ ...tiny, seed: 1 }), randomIds(2, 9, 13, 12));
  });

  it('RoPE rotates each channel pair by p·base^(−2i/D)', () => {
    const d = 4;
    const x = [0.3, -1.2, 0.7, 2.0]; // one head, one token: pairs (0, 2) and (1, 3)
    const pos = 5;
    const y = applyRope(tensor(x, { shape: [1, 1, 1, d], dtype: 'float64' }), pos, 100).dataSync();
    for (const i of [0, 1]) {
      const a = pos * Math.pow(100, (-2 * i) / d);
      const [u, w] = [x[i]!, x[i + 2]!];
      expect(y[i]).toBeCloseTo(u * Math.cos(a) - w * Math.sin(a), 12);
      expect(y[i + 2]).toBeCloseTo(w * Math.cos(a) + u * Math.sin(a), 12);
    }
    // Rotation: norms are preserved and q·k depends only on the position difference.
    const q = tensor([0.5, 1, -0.5, 2], { shape: [1, 1, 1, d], dtype: 'float64' });
    const k = tensor([1.5, -1, 0.25, 0.5], { shape: [1, 1, 1, d], dtype: 'float64' });
    const dot = (p: number, s: number) => applyRope(q, p).mul(applyRope(k, s)).sum().item();
    expect(dot(7, 3)).toBeCloseTo(dot(4, 0), 12);
    expect(Math.abs(dot(7, 3) - dot(7, 4))).toBeGreaterThan(1e-3);
  });

  it('bad configs and inputs give clear errors', () => {
    expect(() => new TransformerLM({ ...tiny, dim: 15, heads: 2 })).toThrow(
      /TransformerLM config: dim \(15\) must be divisible by heads \(2\)/,
    );
    expect(() => new TransformerLM({ ...tiny, vocabSize: 0 })).toThrow(
      /vocabSize must be a positive integer/,
    );
    expect(() => new TransformerLM({ ...tiny, dim: 18, heads: 6 })).toThrow(/head dim .* must be even/);
    expect(() => resolveTransformerConfig({ ...tiny, colour: 1 } as never)).toThrow(/unknown field 'colour'/);
    expect(() => resolveTransformerConfig({ ...tiny, kind: 'titans' } as never)).toThrow(
      /kind must be 'transformer'/,
    );
    expect(() => resolveTransformerConfig({ ...tiny, dtype: 'int32' } as never)).toThrow(/dtype must be/);
    const m = new TransformerLM({ ...tiny, seed: 1 });
    expect(() => m.forward(tensor([[1, 13]], { dtype: 'int32' }))).toThrow(
      /token id 13 at index 1 is outside \[0, 13\)/,
    );
    expect(() => m.forward(tensor([[1, 2]]))).toThrow(/tokens must be int32/);
    expect(() => m.lossAndBackward(tensor([[1]], { dtype: 'int32' }))).toThrow(/batch must be \[B, T\+1\]/);
    const dec = m.decoder();
    expect(() => dec.feed(new Int32Array(0))).toThrow(/at least one id/);
    expect(() => dec.feed(Int32Array.from([99]))).toThrow(/token id 99/);
    dec.dispose();
    expect(() => dec.feed(Int32Array.from([1]))).toThrow(/after dispose/);
  });
});
