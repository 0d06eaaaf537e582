// The registered presets: every model nl-train compares builds, and the baselines' sizes match
// hope-tiny's parameter count (counted on the built models, not by the formula that chose them).
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/config.js';
import { matchMlpHidden } from '../src/factories/presets.js';
import { MODELS } from '../src/models.js';

const NAMES = ['hope-tiny', 'transformer-tiny', 'titans-tiny', 'deltanet-tiny'];

describe('presets', () => {
  it('all four comparison models are registered, at equal parameter counts (within 1%)', async () => {
    expect(Object.keys(MODELS).sort()).toEqual([...NAMES].sort());
    const counts: Record<string, number> = {};
    for (const name of NAMES) {
      const m = await MODELS[name]({ config: { ...DEFAULT_CONFIG, model: name }, vocabSize: 256 });
      counts[name] = m.numParameters();
      expect(m.modelConfig()).toMatchObject({ vocabSize: 256, seed: DEFAULT_CONFIG.seed });
      m.dispose?.();
    }
    const hope = counts['hope-tiny'];
    expect(hope).toBeGreaterThan(100_000);
    for (const name of NAMES) expect(Math.abs(counts[name] / hope - 1)).toBeLessThan(0.01);
  });

  it('matchMlpHidden refuses a target below the narrowest model', () => {
    expect(() => matchMlpHidden({ kind: 'transformer', dim: 128, layers: 4, heads: 4 }, 1000)).toThrow(
      /more than 1000 parameters even with mlpHidden 1/,
    );
  });
});
