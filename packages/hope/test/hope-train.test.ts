/**
 * HopeLM training and evaluation (the online CMS scheme of hope-online.ts), against independent
 * references: finite differences of the loss (float64), the single-pass gradient (the segmented
 * 'full' scheme with zero CMS learning rates must give exactly the un-segmented gradient), the
 * first CMS update == −lr · ∂L_segment/∂θ0 from a plain backward, and an AdamW overfit.
 */
import { AdamW } from '@nl/optim';
import { crossEntropy } from '@nl/tensor';
import { describe, expect, it } from 'vitest';
import { teacherForced } from '../src/models/hope-online.js';
import { gradsOf, ids2d, lcgIds, maxAbsDiff, tinyHope } from './hope-helpers.js';

const batch = ids2d([lcgIds(13, 16, 31), lcgIds(13, 16, 32)]); // [2, 12 + 1]
const firing = [
  { chunkSize: 4, lr: 0 },
  { chunkSize: 6, lr: 0 },
];
const still = [
  { chunkSize: 64, lr: 0 },
  { chunkSize: 128, lr: 0 },
];

describe('HopeLM training scheme', () => {
  it('gradient == central finite differences of the loss (float64, a few entries of each kind)', () => {
    const m = tinyHope({ layers: 1 });
    m.zeroGrad();
    m.lossAndBackward(batch);
    const byName = new Map(m.namedParameters());
    const names = [
      'embed.weight',
      'layers.0.conv.weight',
      'layers.0.wq.weight',
      'layers.0.titans.k.w1',
      'layers.0.titans.eta.w2',
      'layers.0.titans.alpha.w1',
      'layers.0.titans.v.w2',
      'layers.0.titans.mem.w1',
      'layers.0.cms.w1_0',
      'layers.0.cms.w2_1',
      'head.weight',
    ];
    const eps = 1e-6;
    for (const name of names) {
      const p = byName.get(name)!;
      const g = p.grad!.dataSync();
      for (const i of [0, Math.floor(p.numel / 2), p.numel - 1]) {
        const v = p.view;
        const x0 = v[i]!;
        v[i] = x0 + eps;
        const up = m.evalLoss(batch);
        v[i] = x0 - eps;
        const down = m.evalLoss(batch);
        v[i] = x0;
        const fd = (up - down) / (2 * eps);
        expect(Math.abs(fd - g[i]!), `${name}[${i}] fd ${fd} vs ${g[i]}`).toBeLessThan(
          1e-7 + 1e-5 * Math.abs(fd),
        );
      }
    }
  });

  it("segmented 'full' scheme with zero CMS lr == the single-pass loss and gradient", () => {
    const seg = tinyHope({ cmsLevels: firing });
    const one = tinyHope({ cmsLevels: still });
    const l1 = seg.lossAndBackward(batch);
    const l2 = one.lossAndBackward(batch);
    expect(Math.abs(l1 - l2)).toBeLessThan(1e-12);
    const g1 = gradsOf(seg);
    const g2 = gradsOf(one);
    for (const [n, a] of g1) expect(maxAbsDiff(a, g2.get(n)!), n).toBeLessThan(1e-12);
    expect(Math.abs(seg.evalLoss(batch) - l2)).toBeLessThan(1e-12);
  });

  it("'truncated' cuts the memory gradient at segment boundaries (same loss, different init grads)", () => {
    const full = tinyHope({ cmsLevels: firing });
    const cut = tinyHope({ cmsLevels: firing, trainGrad: 'truncated' });
    expect(Math.abs(full.lossAndBackward(batch) - cut.lossAndBackward(batch))).toBeLessThan(1e-12);
    const a = gradsOf(full).get('layers.0.titans.k.w1')!;
    const b = gradsOf(cut).get('layers.0.titans.k.w1')!;
    expect(maxAbsDiff(a, b)).toBeGreaterThan(1e-9);
  });

  it('accumulates into existing gradients (two calls == twice one call)', () => {
    const m = tinyHope({ cmsLevels: firing });
    m.lossAndBackward(batch);
    const once = gradsOf(m);
    m.lossAndBackward(batch);
    for (const [n, g] of gradsOf(m)) {
      const o = once.get(n)!;
      expect(
        maxAbsDiff(
          g,
          Float64Array.from(o, (x) => 2 * x),
        ),
        n,
      ).toBeLessThan(1e-12);
    }
  });

  it('the outer gradient reaches every parameter (all memory inits, every CMS θ0), with CMS firing', () => {
    const m = tinyHope({
      cmsLevels: [
        { chunkSize: 4, lr: 0.1 },
        { chunkSize: 64, lr: 0.1 },
      ],
    });
    m.lossAndBackward(batch);
    for (const [n, p] of m.namedParameters()) {
      const g = p.grad!.dataSync();
      expect(Math.max(...Array.from(g, Math.abs)), n).toBeGreaterThan(0);
    }
  });

  it('first CMS update == −lr · ∂L_segment/∂θ0 from a plain backward (B = 2, shared Δ)', () => {
    const lr = 0.3;
    const levels = [
      { chunkSize: 4, lr },
      { chunkSize: 4, lr },
    ];
    const online = tinyHope({ cmsLevels: levels });
    const seg = ids2d([lcgIds(5, 16, 41), lcgIds(5, 16, 42)]); // 4 inputs, 4 targets each
    online.resetFast();
    teacherForced(online, seg, { outer: false });
    const ref = tinyHope({ cmsLevels: levels });
    ref.resetFast();
    const ids = seg.narrow(1, 0, 4).contiguous();
    const tg = seg.narrow(1, 1, 4).contiguous();
    crossEntropy(ref.step(ids), tg, { reduction: 'sum' }).mul(0.5).backward();
    const refParams = new Map(ref.namedParameters());
    online.blocks.forEach((b, i) => {
      for (const lvl of [0, 1]) {
        const d = b.cms.delta(lvl);
        for (const [kind, delta] of [
          ['w1', d.w1],
          ['w2', d.w2],
        ] as const) {
          const g = refParams.get(`layers.${i}.cms.${kind}_${lvl}`)!.grad!.dataSync();
          const expected = Float64Array.from(g, (x) => -lr * x);
          expect(maxAbsDiff(delta.dataSync(), expected), `layer ${i} ${kind}_${lvl}`).toBeLessThan(1e-12);
          expect(Math.max(...Array.from(expected, Math.abs))).toBeGreaterThan(0);
        }
      }
    });
  });

  it('with CMS learning, evaluation measures the in-sequence updates (differs from the static loss)', () => {
    const learn = tinyHope({ cmsLevels: [{ chunkSize: 4, lr: 0.5 }] });
    const plain = tinyHope({ cmsLevels: [{ chunkSize: 4, lr: 0 }] });
    const a = learn.evalLoss(batch);
    const b = plain.evalLoss(batch);
    expect(Math.abs(a - b)).toBeGreaterThan(1e-9);
    // training runs the same scheme: same loss value
    expect(Math.abs(learn.lossAndBackward(batch) - a)).toBeLessThan(1e-12);
    // evaluation leaves no gradients behind
    const fresh = tinyHope();
    fresh.evalLoss(batch);
    expect(fresh.parameters().every((p) => p.grad === null && p.requiresGrad)).toBe(true);
  });

  it('overfits a fixed batch with AdamW (loss falls over 20 steps)', () => {
    const m = tinyHope({ dtype: 'float32', dim: 16, cmsLevels: [{ chunkSize: 4, lr: 1e-2 }] });
    const opt = new AdamW(m.parameters(), { lr: 1e-2 });
    const losses: number[] = [];
    for (let s = 0; s < 20; s++) {
      opt.zeroGrad();
      losses.push(m.lossAndBackward(batch));
      opt.step();
    }
    expect(losses[19]!).toBeLessThan(0.75 * losses[0]!);
  }, 120_000);
});
