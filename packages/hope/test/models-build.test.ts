import { describe, expect, it } from 'vitest';
import {
  buildModel,
  countParameters,
  modelKinds,
  registerModelKind,
  type ModelConfigInput,
} from '../src/models/build.js';
import { PAPER_SHAPES, matchMlpHidden, preset, presetNames, registerPresets } from '../src/models/presets.js';
import { TransformerLM } from '../src/models/transformer.js';
import { forwardRows, maxDiff, randomIds } from './models-helpers.js';

const KINDS = ['transformer', 'deltanet', 'titans'] as const;

describe('buildModel, presets, countParameters', () => {
  it.each(KINDS)(
    '%s: tiny preset builds; numParameters == countParameters; config rebuilds the same model',
    (kind) => {
      const c = preset(kind, 'tiny', { seed: 3 });
      expect(c).toMatchObject({ kind, vocabSize: 256, dim: 128, layers: 4, heads: 4 });
      const m = buildModel(c);
      expect(m.config.kind).toBe(kind);
      expect(m.numParameters()).toBe(countParameters(c));
      const again = buildModel(JSON.parse(JSON.stringify(m.config)) as ModelConfigInput);
      expect(again.config).toEqual(m.config);
      const ids = Int32Array.from(randomIds(1, 5, 256, 1).dataSync());
      expect(maxDiff(forwardRows(m, ids), forwardRows(again, ids))).toBe(0); // seed in the config
    },
  );

  it.each(KINDS)('%s: analytic counts agree with built models off the defaults', (kind) => {
    const c = {
      kind,
      vocabSize: 7,
      dim: 24,
      layers: 3,
      heads: 3,
      mlpHidden: 10,
      tieEmbeddings: true,
      convSize: 3,
    };
    const { convSize, ...rest } = c;
    const cfg = (kind === 'transformer' ? { ...rest, heads: 2 } : { ...rest, convSize }) as ModelConfigInput;
    expect(buildModel(cfg).numParameters()).toBe(countParameters(cfg));
  });

  it('paper presets: sizes land near their names, recurrent kinds param-matched to Transformer++ (analytic)', () => {
    const near = { '340M': [330e6, 420e6], '760M': [700e6, 860e6], '1.3B': [1.2e9, 1.45e9] } as const;
    for (const kind of KINDS) {
      expect(presetNames(kind)).toEqual(['tiny', '340M', '760M', '1.3B']);
      for (const [name, [lo, hi]] of Object.entries(near)) {
        const c = preset(kind, name);
        expect(c).toMatchObject({ ...PAPER_SHAPES[name as keyof typeof PAPER_SHAPES], vocabSize: 32000 });
        if (kind !== 'transformer') expect(c.mlpHidden).toBeLessThan(Math.round((8 * (c.dim as number)) / 3));
        const n = countParameters(c);
        const reference = countParameters(preset('transformer', name));
        expect(Math.abs(n - reference) / reference, `${kind} ${name} param-matched`).toBeLessThan(1e-4);
        expect(n, `${kind} ${name}: ${n}`).toBeGreaterThan(lo);
        expect(n, `${kind} ${name}: ${n}`).toBeLessThan(hi);
      }
    }
  });

  it('matchMlpHidden picks the MLP width whose count is nearest the target', () => {
    const c = { kind: 'titans', vocabSize: 256, dim: 64, layers: 2, heads: 4 } as ModelConfigInput;
    const target = countParameters({ ...c, kind: 'transformer' });
    const m = matchMlpHidden(c, target);
    const h = m.mlpHidden as number;
    const dist = (x: number) => Math.abs(countParameters({ ...c, mlpHidden: x }) - target);
    expect(dist(h)).toBeLessThanOrEqual(dist(h - 1));
    expect(dist(h)).toBeLessThanOrEqual(dist(h + 1));
    expect(buildModel({ ...m, seed: 1 }).numParameters()).toBe(countParameters(m));
    expect(() => matchMlpHidden(c, 1000)).toThrow(/exceeds 1000 parameters even with mlpHidden 1/);
  });

  it('unknown kinds, presets and bad fields give clear errors', () => {
    expect(() => buildModel({ kind: 'rnn' } as unknown as ModelConfigInput)).toThrow(
      /buildModel: unknown model kind "rnn" \(known: transformer, deltanet, titans/,
    );
    expect(() => buildModel(null as unknown as ModelConfigInput)).toThrow(/config must be an object/);
    expect(() => buildModel({ kind: 'deltanet', vocabSize: 0, dim: 8, layers: 1, heads: 1 })).toThrow(
      /DeltaNetLM config: vocabSize must be a positive integer, got 0/,
    );
    expect(() => buildModel({ kind: 'titans', vocabSize: 5, dim: 9, layers: 1, heads: 2 })).toThrow(
      /TitansLM config: dim \(9\) must be divisible by heads \(2\)/,
    );
    expect(() => countParameters({ kind: 'transformer', vocabSize: 5, dim: 8, layers: 0, heads: 2 })).toThrow(
      /layers must be a positive integer/,
    );
    expect(() => preset('transformer', 'huge')).toThrow(
      /no preset 'huge' for 'transformer' \(known: tiny, 340M/,
    );
    expect(() => preset('lstm', 'tiny')).toThrow(/no presets for kind 'lstm'/);
  });

  it('registerModelKind / registerPresets add a kind without editing the switch', () => {
    registerModelKind(
      'test-kind',
      (c) => new TransformerLM({ ...c, kind: 'transformer' } as never),
      () => 42,
    );
    registerPresets('test-kind', {
      small: { kind: 'test-kind' as never, vocabSize: 5, dim: 8, layers: 1, heads: 2 },
    });
    expect(modelKinds()).toContain('test-kind');
    const m = buildModel(preset('test-kind', 'small'));
    expect(m.config.kind).toBe('transformer');
    expect(countParameters(preset('test-kind', 'small'))).toBe(42);
    expect(() =>
      registerPresets('x', { a: { kind: 'transformer', vocabSize: 1, dim: 1, layers: 1, heads: 1 } }),
    ).toThrow(/preset 'a' has kind 'transformer'/);
  });
});
