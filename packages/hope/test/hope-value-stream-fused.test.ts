/**
 * HopeLM `valueStream` with selfModImpl 'fused' (the native CPU kernel with its value input xv)
 * against selfModImpl 'chunked' (the reference of hope-value-stream.test.ts), float64, same seed:
 * the same parameters, loss and every parameter's gradient (W_v and the value conv included) within
 * 1e-9, in one call and with the online scheme's calls cut at the CMS firings ('full' and
 * 'truncated'); the fused model really runs the fused op.
 */
import { tensor } from '@nl/tensor';
import { describe, expect, it } from 'vitest';
import { HopeLM, type HopeConfigInput } from '../src/models/hope-index.js';
import { maxDiff } from './models-helpers.js';
import { hostIds } from './decode-helpers.js';
import { VALUE_STREAM_SMALL } from './hope-helpers.js';

const SMALL: HopeConfigInput = VALUE_STREAM_SMALL;

/** loss and every parameter's gradient of one lossAndBackward on `batch`. */
function step(cfg: HopeConfigInput, batch: number[], shape: [number, number]) {
  const m = new HopeLM(cfg);
  const loss = m.lossAndBackward(tensor(batch, { shape, dtype: 'int32' }));
  const params = m.namedParameters();
  return {
    m,
    loss,
    values: new Map(params.map(([n, p]) => [n, p.dataSync()])),
    grads: new Map(params.map(([n, p]) => [n, p.grad ? p.grad.dataSync() : null])),
  };
}

describe("HopeLM valueStream with selfModImpl 'fused' == 'chunked' (float64)", () => {
  const cases: [string, Partial<HopeConfigInput>, [number, number]][] = [
    ['one call (B 2, T 21)', {}, [2, 21]],
    ["online scheme, calls cut at the CMS firings ('full')", { cmsLevels: [{ chunkSize: 4, lr: 0.1 }, { chunkSize: 6, lr: 0.1 }] }, [2, 13]],
    ["online scheme, 'truncated'", { cmsLevels: [{ chunkSize: 4, lr: 0.1 }, { chunkSize: 6, lr: 0.1 }], trainGrad: 'truncated' }, [1, 17]],
  ]; // prettier-ignore
  for (const [name, extra, shape] of cases)
    it(name, () => {
      const batch = Array.from(hostIds(shape[0] * shape[1], 9, SMALL.vocabSize!));
      const [c, f] = (['chunked', 'fused'] as const).map((selfModImpl) =>
        step({ ...SMALL, ...extra, selfModImpl }, batch, shape),
      );
      expect(f!.m.blocks[0]!.titans.impl).toBe('fused');
      expect(c!.m.blocks[0]!.titans.impl).toBe('chunked');
      for (const [n, v] of c!.values) expect(maxDiff(f!.values.get(n)!, v), `param ${n}`).toBe(0);
      expect(Math.abs(f!.loss - c!.loss)).toBeLessThan(1e-9);
      let named = 0;
      for (const [n, g] of c!.grads) {
        const gf = f!.grads.get(n)!;
        expect(gf === null, `grad ${n} presence`).toBe(g === null);
        if (g === null) continue;
        expect(maxDiff(gf!, g), `grad ${n}`).toBeLessThan(1e-9);
        if (/\.(wv|convV)\./.test(n)) {
          expect(Math.max(...Array.from(g, Math.abs)), `grad ${n} non-zero`).toBeGreaterThan(0);
          named++;
        }
      }
      expect(named).toBe(3 * SMALL.layers!);
    });
});
