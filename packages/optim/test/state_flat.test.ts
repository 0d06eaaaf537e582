// Safetensors-style flattening: {name: typed array} + JSON metadata round-trips exactly
// (continue after reload == uninterrupted, bit for bit) for optimizers with arrays and scalars.
import { describe, expect, it } from 'vitest';
import {
  AdamW,
  flattenStateDict,
  M3,
  unflattenStateDict,
  type Optimizer,
  type ParamLike,
} from '../src/index.js';
import { quadratic } from './helpers.js';

const makers: Array<[string, (p: ParamLike[]) => Optimizer<object>]> = [
  ['AdamW amsgrad', (p) => new AdamW(p, { lr: 0.05, amsgrad: true }) as never],
  ['M3 literal', (p) => new M3(p, { lr: 0.01, mode: 'literal', frequency: 3 }) as never],
];

describe.each(makers)('flattenStateDict (%s)', (_name, make) => {
  it('round trip through copied typed arrays and a metadata string is bit-exact', () => {
    const a = quadratic(8, Float32Array);
    const oa = make(a.params);
    const run = (o: Optimizer<object>, q: typeof a, n: number) => {
      for (let t = 0; t < n; t++) {
        q.grad();
        o.step();
      }
    };
    run(oa, a, 5);
    const flat = flattenStateDict(oa.stateDict());
    expect(Object.keys(flat.tensors).every((k) => /^state\.\d+\./.test(k))).toBe(true);
    const copied = {
      tensors: Object.fromEntries(Object.entries(flat.tensors).map(([k, v]) => [k, v.slice()])),
      metadata: flat.metadata,
    };
    const snap = a.params.map((p) => p.view.slice());
    run(oa, a, 6);
    const b = quadratic(8, Float32Array);
    b.params.forEach((p, i) => p.view.set(snap[i]!));
    const ob = make(b.params);
    ob.loadStateDict(unflattenStateDict(copied));
    run(ob, b, 6);
    b.params.forEach((p, i) => expect(Array.from(p.view)).toEqual(Array.from(a.params[i]!.view)));
  });
  it('rejects foreign tensor names', () => {
    expect(() =>
      unflattenStateDict({
        tensors: { 'w.0': new Float32Array(1) },
        metadata: '{"paramGroups":[],"scalars":{}}',
      }),
    ).toThrow(/unexpected tensor name w.0/);
  });
});
