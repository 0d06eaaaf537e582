import { describe, expect, it } from 'vitest';
import { memory } from '@nl/tensor';
import { ContinuumMemory, TitansMemory } from '../src/index.js';

// Building a memory module allocates its parameters and nothing else that stays alive.
describe('constructors leave only their parameters alive', () => {
  // extra = fast-state tensors reset() allocates (CMS: one zero Δ per level weight, shared by the
  // gradient accumulators); before the fix every random init left 2 temporaries alive.
  const cases: [string, number, () => { parameters(): unknown[] }][] = [
    ['TitansMemory', 0, () => new TitansMemory({ heads: 2, dk: 4, dv: 4 })],
    [
      'ContinuumMemory (sequential)',
      2,
      () => new ContinuumMemory({ dim: 4, hidden: 8, levels: [{ chunkSize: 2 }] }),
    ],
    [
      'ContinuumMemory (independent)',
      4,
      () =>
        new ContinuumMemory({
          dim: 4,
          hidden: 8,
          levels: [{ chunkSize: 2 }, { chunkSize: 4 }],
          variant: 'independent',
        }),
    ],
  ];
  for (const [name, extra, build] of cases) {
    it(name, () => {
      const before = memory().numTensors;
      const m = build();
      const params = m.parameters().length;
      const after = memory().numTensors;
      // parameters, plus whatever fast state reset() allocates: compare with a second build
      const m2 = build();
      expect(memory().numTensors - after).toBe(after - before);
      expect(m2.parameters().length).toBe(params);
      expect(after - before).toBe(params + extra);
    });
  }
});
