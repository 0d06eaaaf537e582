// The buffer-pool rows of suite `transformer`: the old cap and the current limit are timed on the
// same step, and the caller's pool limit is restored afterwards (no timing is asserted).
import { describe, expect, it } from 'vitest';
import * as T from '@nl/tensor';
import { OLD_POOL_LIMIT_BYTES, poolLimitRows } from '../src/suites/transformer-pool.js';

describe('transformer suite: pool-limit rows', () => {
  it('time the 256 MiB cap and the current limit, and restore the limit', async () => {
    const before = T.setPoolLimit(5 * 2 ** 20);
    try {
      const rows = await poolLimitRows({ batch: 1, seq: 4, timeMs: 1 });
      expect(rows.map((r) => r.impl)).toEqual(['pool limit 256 MiB (before)', 'pool limit 5 MiB (current)']);
      for (const r of rows) {
        expect(r.rate).toBeGreaterThan(0);
        expect(r.rate! * (r.medianMs! / 1e3)).toBeCloseTo(4, 6); // tokens per step: B·T
      }
      expect(rows[1].ratio).toBeCloseTo(rows[0].medianMs! / rows[1].medianMs!, 9);
      expect(T.poolLimit()).toBe(5 * 2 ** 20);
      expect(OLD_POOL_LIMIT_BYTES).toBe(256 * 2 ** 20);
    } finally {
      T.setPoolLimit(before);
    }
  }, 60_000);
});
