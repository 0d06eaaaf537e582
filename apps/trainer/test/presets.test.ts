// The registered presets: every model nl-train compares builds, and the baselines' sizes match
// hope-tiny's parameter count (counted on the built models, not by the formula that chose them).
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/config.js';
import { matchMlpHidden } from '../src/factories/presets.js';
import { MODELS } from '../src/models.js';

const NAMES = ['hope-tiny', 'hope-tiny-live', 'transformer-tiny', 'titans-tiny', 'deltanet-tiny'];

describe('presets', () => {
  it('every comparison model is registered, at equal parameter counts (within 1%)', async () => {
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

  it('hope-tiny-live is hope-tiny with the live memory init and the inner-gradient clip', async () => {
    const build = (name: string) =>
      MODELS[name]({ config: { ...DEFAULT_CONFIG, model: name }, vocabSize: 256 });
    const [tiny, live] = [await build('hope-tiny'), await build('hope-tiny-live')];
    const a = tiny.modelConfig() as Record<string, unknown>;
    const b = live.modelConfig() as Record<string, unknown>;
    expect(b).toMatchObject({ innerGradClip: 1, etaBias: -2.5 });
    expect(b.memoryInitStd).toMatchObject({ k: { w1: 0.1, w2: 1 }, mem: { w2: 1 } });
    // every other key as hope-tiny's
    const rest = (c: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(c).filter(([k]) => !['innerGradClip', 'etaBias', 'memoryInitStd'].includes(k)),
      );
    expect(rest(b)).toEqual(rest(a));
    tiny.dispose?.();
    live.dispose?.();
  });

  it('matchMlpHidden refuses a target below the narrowest model', () => {
    expect(() => matchMlpHidden({ kind: 'transformer', dim: 128, layers: 4, heads: 4 }, 1000)).toThrow(
      /more than 1000 parameters even with mlpHidden 1/,
    );
  });
});
