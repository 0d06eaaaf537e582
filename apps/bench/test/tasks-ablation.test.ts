// The ablation family end to end on a tiny budget: Hope and its three variants run, with equal
// parameter counts, bits per byte finite and positive on both held-out corpora, the same numbers
// for a variant run alone under the same seed; the variants really differ in their configs.
import { describe, expect, it } from 'vitest';
import { resolveHopeConfig, type HopeConfigInput } from '@nl/hope';
import {
  ABLATION_FULL,
  ABLATION_QUICK,
  ablationBudget,
  ablationVariants,
  evenWindows,
  runAblationFamily,
} from '../src/tasks/ablation.js';
import { comparisonModels } from '../src/tasks/models.js';

describe('ablation family', () => {
  it('variants: same shape and parameter budget, one switch each', () => {
    const hope = comparisonModels(0, { overrides: { dim: 32 }, layers: 1 })[3]!.config;
    const vs = ablationVariants(hope).map((v) => ({
      name: v.name,
      c: resolveHopeConfig(v.config as unknown as HopeConfigInput),
    }));
    expect(vs.map((v) => v.name)).toEqual([
      'hope',
      'w/o CMS',
      'w/o self-mod generators',
      'w/o DGD preconditioner',
    ]);
    const [full, noCms, noGen, noDgd] = vs.map((v) => v.c) as [
      ReturnType<typeof resolveHopeConfig>,
      ...ReturnType<typeof resolveHopeConfig>[],
    ];
    expect(full.cmsLevels.length).toBeGreaterThan(1);
    expect(noCms!.cmsLevels).toEqual([{ chunkSize: 1 << 30, lr: 0 }]);
    expect(noCms!.cmsHidden).toBe(full.cmsHidden * full.cmsLevels.length);
    expect([noGen!.staticGenerators, noGen!.precondition]).toEqual([true, true]);
    expect([noDgd!.staticGenerators, noDgd!.precondition]).toEqual([false, false]);
    expect(vs.every((v) => v.c.selfModImpl === 'chunked' && v.c.dim === 32)).toBe(true);
  });

  it('runs every variant on a tiny budget, fixed by the seed', () => {
    const opts = { quick: true, seeds: [2], log: () => {} };
    const a = runAblationFamily(opts, ABLATION_QUICK);
    expect(a.rows).toHaveLength(4 * 2);
    expect(new Set(a.rows.map((r) => r.task))).toEqual(new Set(['SOTU held-out', 'Moby-Dick held-out']));
    expect(new Set(a.rows.map((r) => r.params)).size).toBe(1);
    for (const r of a.rows) {
      expect(r.metric).toBe('bpb');
      expect(r.value).toBeGreaterThan(0);
      expect(r.value).toBeLessThan(20);
    }
    const b = runAblationFamily({ ...opts, models: ['w/o DGD preconditioner'] }, ABLATION_QUICK);
    expect(b.rows.map((r) => r.value)).toEqual(
      a.rows.filter((r) => r.model === 'w/o DGD preconditioner').map((r) => r.value),
    );
  }, 300_000);

  it("the value stream's variants run when named, with its switch kept in each", () => {
    const hopeVs = comparisonModels(0, { overrides: { dim: 32 }, layers: 1, withHopeValueStream: true }).find(
      (m) => m.name === 'hope-vs',
    )!.config;
    const names = ablationVariants(hopeVs, 'hope-vs').map((v) => v.name);
    expect(names).toEqual([
      'hope-vs',
      'hope-vs w/o CMS',
      'hope-vs w/o self-mod generators',
      'hope-vs w/o DGD preconditioner',
    ]);
    for (const v of ablationVariants(hopeVs, 'hope-vs')) {
      const c = resolveHopeConfig(v.config as unknown as HopeConfigInput);
      expect([c.valueStream, c.etaBias, c.selfModImpl, c.innerGradClip]).toEqual([true, -2, 'chunked', 1]);
    }
    const r = runAblationFamily(
      { quick: true, seeds: [2], log: () => {}, models: ['hope-vs', 'hope-vs w/o DGD preconditioner'] },
      ABLATION_QUICK,
    );
    expect(r.rows.map((x) => x.model)).toEqual([
      'hope-vs',
      'hope-vs',
      'hope-vs w/o DGD preconditioner',
      'hope-vs w/o DGD preconditioner',
    ]);
    expect(r.rows.every((x) => x.value > 0 && x.value < 20)).toBe(true);
    expect(() =>
      runAblationFamily({ quick: true, seeds: [2], log: () => {}, models: ['hope-xx'] }, ABLATION_QUICK),
    ).toThrow(/hope-xx/);
  }, 300_000);

  it("the live init's variants run when named, each keeping its init and inner-gradient clip", () => {
    const live = comparisonModels(0, { overrides: { dim: 32 }, layers: 1, withHopeLive: true }).find(
      (m) => m.name === 'hope-live',
    )!.config;
    for (const v of ablationVariants(live, 'hope-live')) {
      const c = resolveHopeConfig(v.config as unknown as HopeConfigInput);
      expect([c.etaBias, c.selfModImpl, c.innerGradClip, c.memoryInitStd.mem?.w2], v.name).toEqual([
        -2.5,
        'chunked',
        1,
        1,
      ]);
    }
    const r = runAblationFamily(
      { quick: true, seeds: [1], log: () => {}, models: ['hope-live w/o self-mod generators'] },
      ABLATION_QUICK,
    );
    expect(r.rows.map((x) => x.model)).toEqual([
      'hope-live w/o self-mod generators',
      'hope-live w/o self-mod generators',
    ]);
    expect(r.rows.every((x) => x.value > 0 && x.value < 20)).toBe(true);
  }, 300_000);

  it('budgets: default, quick, long; an unknown one or long with quick is refused by name', () => {
    expect(ablationBudget({ quick: false })).toBe(ABLATION_FULL);
    expect(ablationBudget({ quick: true })).toBe(ABLATION_QUICK);
    expect(ablationBudget({ quick: false, budget: 'long' })).toEqual({ ...ABLATION_FULL, steps: 300 });
    expect(() => ablationBudget({ quick: false, budget: 'huge' })).toThrow(/no budget 'huge'/);
    expect(() => ablationBudget({ quick: true, budget: 'long' })).toThrow(/exclude each other/);
  });

  it('names the runs that diverged (a learning rate that blows the weights up)', () => {
    const opts = { quick: true, seeds: [1], log: () => {}, models: ['w/o CMS'] };
    const r = runAblationFamily(opts, { ...ABLATION_QUICK, lr: 1e30, steps: 3 });
    expect(r.rows.some((x) => !Number.isFinite(x.value))).toBe(true);
    expect((r.notes ?? []).join(' ')).toMatch(
      /Diverged \(training loss or held-out bpb not finite\): w\/o CMS seed 1/,
    );
    const ok = runAblationFamily(opts, ABLATION_QUICK);
    expect((ok.notes ?? []).join(' ')).not.toMatch(/Diverged/);
  }, 300_000);

  it('evenWindows spans the bytes and names a short input', () => {
    const bytes = Uint8Array.from({ length: 10 }, (_, i) => i);
    expect(Array.from(evenWindows(bytes, 3, 4))).toEqual([0, 1, 2, 3, 3, 4, 5, 6, 6, 7, 8, 9]);
    expect(() => evenWindows(bytes, 1, 11)).toThrow(/10 bytes < a window of 11/);
  });
});
