import { Generator, noGrad, randn } from '@nl/tensor';
import { describe, expect, it } from 'vitest';
import { TitansLM, titansLMParamCount } from '../src/models/titans-lm.js';
import { exportTitansOnnx } from '../src/export/index.js';
import {
  expectCausal,
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
const f64 = (seed: number, extra: object = {}) => new TitansLM({ ...tiny, dtype: 'float64', seed, ...extra });

describe('TitansLM', () => {
  it('forward gives logits [B, T, V]; parameter count matches the analytic count', () => {
    const m = new TitansLM({ ...tiny, seed: 1 });
    expect(m.forward(randomIds(3, 5, 13, 0)).shape).toEqual([3, 5, 13]);
    expect(m.numParameters()).toBe(titansLMParamCount(m.config));
    const wide = new TitansLM({ ...tiny, seed: 1, memoryHidden: 12 });
    expect(wide.numParameters()).toBe(m.numParameters() + 2 * 2 * 2 * 8 * 4); // layers × heads × (W1, W2) × Dh × Δhidden
    expect(wide.numParameters()).toBe(titansLMParamCount(wide.config));
  });

  it("impl 'fused' (native Titans MLP chunk kernels) equals the token loop", () => {
    const ids = Int32Array.from(randomIds(1, 19, 13, 1).dataSync());
    const a = forwardRows(f64(2, { impl: 'fused', chunkSize: 4 }), ids);
    const b = forwardRows(f64(2, { impl: 'loop', chunkSize: 4 }), ids);
    expect(maxDiff(a, b)).toBeLessThan(1e-10);
  });

  it('streaming decoder (memory weights, momenta, chunk position + conv cache) equals teacher-forced logits', () => {
    const m = f64(3, { chunkSize: 3 }); // pieces cut inside and across memory chunks
    const ids = Int32Array.from(randomIds(1, 11, 13, 4).dataSync());
    expectDecoderMatchesForward(m, ids, Array(11).fill(1), 1e-9);
    expectDecoderMatchesForward(m, ids, [2, 5, 1, 3], 1e-9);
  });

  it('float32: streaming decoder equals teacher-forced logits to float32 rounding', () => {
    const m = new TitansLM({ ...tiny, seed: 5 });
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
    const m = new TitansLM({ ...tiny, seed: 7 });
    const losses = overfit(m, randomIds(2, 17, 13, 8), 25);
    expect(losses[0]).toBeGreaterThan(Math.log(13) - 0.3);
    expect(losses[24]!).toBeLessThan(0.5 * losses[0]!);
  });

  it('lossAndBackward gradients equal finite differences (float64), gates and memory init included', () => {
    // Big gates, gate weights and memory weights, so that the memory's contribution (and so every
    // gate's) is visible in the gradients; at the default small-scale init it is ~1e-8.
    const m = f64(9, { chunkSize: 2, thetaMax: 1, thetaInit: 0.5, etaInit: 0.4, alphaInit: 0.05 });
    const g = new Generator(3);
    noGrad(() => {
      for (const [name, p] of m.namedParameters()) {
        if (!/(memory\.w[12]|(theta|eta|alpha)Proj\.weight)$/.test(name)) continue;
        const r = randn([...p.shape], { dtype: 'float64', generator: g }).dataSync();
        p.view.set(r.map((x) => x * (name.includes('memory') ? 0.5 : 0.3)));
      }
    });
    expectGradsMatchFiniteDifferences(m, randomIds(2, 6, 13, 10), [
      'layers.0.qkv.proj.weight',
      'layers.0.qkv.conv.weight',
      'layers.0.thetaProj.weight',
      'layers.1.etaProj.bias',
      'layers.0.alphaProj.bias',
      'layers.0.memory.w1',
      'layers.1.memory.w2',
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
    expectToFloat64(new TitansLM({ ...tiny, seed: 2 }), Int32Array.from(randomIds(1, 8, 13, 13).dataSync()));
  });

  it('does not leak tensors across training, evaluation and decoding', () => {
    expectNoLeaks(new TitansLM({ ...tiny, seed: 1 }), randomIds(2, 9, 13, 12));
  });

  describe("innerGradClip (the memory clips each token's inner gradient)", () => {
    // big gates and memory weights so that the clip acts (checked: the clipped logits differ)
    const clipped = (seed: number, extra: object = {}) => {
      const m = f64(seed, { chunkSize: 3, thetaMax: 1, thetaInit: 0.5, innerGradClip: 0.02, ...extra });
      const g = new Generator(seed);
      noGrad(() => {
        for (const [name, p] of m.namedParameters()) {
          if (!/memory\.w[12]$/.test(name)) continue;
          const r = randn([...p.shape], { dtype: 'float64', generator: g }).dataSync();
          p.view.set(r.map((x) => x * 0.5));
        }
      });
      return m;
    };
    it("acts; impl 'fused' (one kernel call per chunk) equals the token loop", () => {
      const ids = Int32Array.from(randomIds(1, 19, 13, 1).dataSync());
      const fused = forwardRows(clipped(2), ids);
      expect(maxDiff(fused, forwardRows(clipped(2, { impl: 'loop' }), ids))).toBeLessThan(1e-10);
      expect(maxDiff(fused, forwardRows(clipped(2, { innerGradClip: 0 }), ids))).toBeGreaterThan(1e-3);
    });
    it('the streaming decoder (tensor ops: the fused decoder refuses the clip) equals teacher-forced logits', () => {
      const m = clipped(3);
      const ids = Int32Array.from(randomIds(1, 11, 13, 4).dataSync());
      expectDecoderMatchesForward(m, ids, [2, 5, 1, 3], 1e-9);
      expect(() => m.decoder({ fused: true })).toThrow(/innerGradClip/);
    });
    it('lossAndBackward gradients equal finite differences through the clip', () => {
      expectGradsMatchFiniteDifferences(clipped(9), randomIds(2, 6, 13, 10), [
        'layers.0.qkv.proj.weight',
        'layers.0.thetaProj.weight',
        'layers.0.memory.w1',
        'layers.1.memory.w2',
      ]);
    });
    it('ONNX export refuses it by name; a bad value is refused', () => {
      expect(() => exportTitansOnnx(clipped(1), { mode: 'forward' })).toThrow(
        /exportTitansOnnx: the model clips its memory's inner gradient \(innerGradClip 0.02\)/,
      );
      expect(() => new TitansLM({ ...tiny, innerGradClip: -1 })).toThrow(
        /innerGradClip must be a number in \[0, /,
      );
    });
  });

  it('bad configs give clear errors', () => {
    expect(() => new TitansLM({ ...tiny, dim: 15 })).toThrow(
      /TitansLM config: dim \(15\) must be divisible by heads \(2\)/,
    );
    expect(() => new TitansLM({ ...tiny, convSize: 0 })).toThrow(/convSize must be a positive integer/);
    expect(() => new TitansLM({ ...tiny, impl: 'gpu' } as never)).toThrow(/impl must be 'fused' or 'loop'/);
    expect(() => new TitansLM({ ...tiny, thetaInit: 0.5, thetaMax: 0.1 })).toThrow(
      /thetaInit must be a number in \[0, 0.1\]/,
    );
    expect(() => new TitansLM({ ...tiny, etaMax: 2 })).toThrow(/etaMax must be a number in/);
    expect(() => new TitansLM({ ...tiny, memoryInitStd: -1 })).toThrow(
      /memoryInitStd must be a number in \[0, 10\]/,
    );
    expect(() => new TitansLM({ ...tiny, vocabSize: 0 })).toThrow(/vocabSize must be a positive integer/);
  });
});
