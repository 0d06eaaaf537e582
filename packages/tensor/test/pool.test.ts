// The buffer pool: recycled outputs never leak stale values into ops that need zeros, and data
// an autograd graph saved stays intact until its backward has run, even after tidy disposed the
// tensors and many same-size buffers were reused in between.
import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { assertClose } from '../src/index.js';
import { DEFAULT_POOL_LIMIT_BYTES, poolLimitFromEnv, poolStats, POOL_MIN_ELEMENTS } from '../src/pool.js';

const N = POOL_MIN_ELEMENTS * 2;

describe('buffer pool', () => {
  it('reuses buffers of disposed op outputs; zero-needing ops get zeros', () => {
    const x = T.full([N], 3);
    const before = poolStats().hits;
    for (let i = 0; i < 5; i++) x.exp().dispose();
    expect(poolStats().hits).toBeGreaterThan(before);
    // a recycled buffer full of e^3 must not show through pad's zero border
    const junk = x.exp();
    junk.dispose();
    const p = x.narrow(0, 0, N - 2).pad([1, 1]);
    const pd = p.dataSync();
    expect(pd[0]).toBe(0);
    expect(pd[N - 1]).toBe(0);
    expect(pd[1]).toBe(3);
    x.dispose();
    p.dispose();
  });
  it('creation functions reuse buffers and still give exact contents', () => {
    T.full([N], 9).dispose();
    const z = T.zeros([N]);
    expect(z.sum().item()).toBe(0);
    z.dispose();
    T.full([N, 1], 9).dispose();
    const e = T.eye(N / 128, 128);
    expect(e.sum().item()).toBe(128);
    e.dispose();
  });
  it('user arrays (fromTypedArray) are never recycled', () => {
    const arr = new Float32Array(N).fill(2);
    const t = T.fromTypedArray(arr);
    t.dispose();
    const others = Array.from({ length: 3 }, () => T.full([N], 5).mul(3));
    expect(arr.every((v) => v === 2)).toBe(true);
    others.forEach((o) => o.dispose());
  });
  it('graph-saved values survive tidy + heavy reuse until backward, then are recycled', () => {
    T.manualSeed(3);
    const w = T.randn([N], { dtype: 'float64' });
    w.requiresGrad = true;
    const c = T.randn([N], { dtype: 'float64' });
    // reference gradient of sum(exp(w * c) * c)
    const wd = w.dataSync();
    const cd = c.dataSync();
    const ref = Float64Array.from(wd, (v, i) => Math.exp(v * cd[i]) * cd[i] * cd[i]);
    const loss = T.tidy(() => w.mul(c).exp().mul(c).sum());
    // churn: many same-size buffers taken and returned, filled with other values
    for (let i = 0; i < 10; i++) T.tidy(() => c.add(i).mul(1e6).exp());
    const pooledBefore = poolStats().pooledBytes;
    loss.backward();
    assertClose('grad', ref, w.grad!, { rtol: 1e-12 });
    expect(poolStats().pooledBytes).toBeGreaterThan(pooledBefore);
    loss.dispose();
  });
  it('a tensor a custom op saved (ctx.save) goes back to the pool once its backward has run', () => {
    // o = x * s with s = exp(x) made and saved inside forward (tidy disposes the original)
    let saved: { freed: boolean } | null = null;
    const op = T.defineOp({
      name: 'test.poolSaved',
      forward(ctx, [x]) {
        const s = x.exp();
        saved = s.storage;
        ctx.save(s);
        return x.mul(s);
      },
      backward(ctx, [g]) {
        const [s] = ctx.saved;
        const x = ctx.inputs[0]!;
        return [g ? g.mul(s!).mul(x.add(1)) : null]; // d(x e^x) = (x + 1) e^x
      },
    });
    const x = T.full([N], 0.5, { dtype: 'float64' });
    x.requiresGrad = true;
    const o = op([x]) as T.Tensor;
    const loss = o.sum();
    const bytes = N * 8;
    expect(saved!.freed).toBe(false); // the graph holds it
    const before = poolStats().pooledBytes;
    loss.backward();
    expect(saved!.freed).toBe(true);
    assertClose('grad', new Float64Array(N).fill(1.5 * Math.exp(0.5)), x.grad!, { rtol: 1e-12 });
    o.dispose();
    loss.dispose();
    x.grad = null;
    // returned now: s (saved), o (disposed), and the backward's temporaries; before the fix s
    // kept an extra alias and only the garbage collector could free it
    const after = poolStats().pooledBytes;
    expect(after - before).toBeGreaterThanOrEqual(2 * bytes);
    const hits = poolStats().hits;
    const again = op([x]) as T.Tensor; // s and o come from the pool
    expect(poolStats().hits - hits).toBeGreaterThanOrEqual(2);
    again.dispose();
    x.dispose();
  });
  it('a tensor saved by a custom op that records nothing (no input needs grad) is freed at once', () => {
    let saved: { freed: boolean } | null = null;
    const op = T.defineOp({
      name: 'test.poolSavedNoGrad',
      forward(ctx, [x]) {
        const s = x.exp();
        saved = s.storage;
        ctx.save(s);
        return x.mul(s);
      },
      backward: () => [null],
    });
    const x = T.full([N], 0.5, { dtype: 'float64' });
    const o = op([x]) as T.Tensor;
    expect(saved!.freed).toBe(true); // at the op's end
    const hits = poolStats().hits;
    x.exp().dispose(); // takes s's buffer back
    expect(poolStats().hits).toBe(hits + 1);
    o.dispose();
    x.dispose();
  });
});

describe('re-wrapping pooled memory', () => {
  it('fromTypedArray(t.rawView()) pins the buffer: disposing t does not recycle it', () => {
    const t = T.full([N], 4).add(1); // pooled storage
    const w = T.fromTypedArray(t.rawView() as Float32Array);
    t.dispose();
    const others = Array.from({ length: 4 }, () => T.full([N], 7).mul(2));
    expect(w.dataSync().every((v) => v === 5)).toBe(true);
    others.forEach((o) => o.dispose());
    w.dispose();
  });
});

describe('the pool limit', () => {
  const f32 = (n: number): number => n * 4;
  /** Pools `count` buffers of n floats: made together, then disposed together. */
  const poolBuffers = (n: number, count: number): void => {
    const ts = Array.from({ length: count }, (_, i) => T.full([n], i));
    ts.forEach((t) => t.dispose());
  };
  it('evicts the least recently used sizes to stay under the limit, and serves the newest', () => {
    const previous = T.setPoolLimit(3 * f32(N));
    try {
      T.clearPool();
      const ev = poolStats().evictions;
      poolBuffers(N, 2); // pooled: 2 buffers of N
      expect(poolStats().pooledBytes).toBe(2 * f32(N));
      poolBuffers(2 * N, 1); // 2N does not fit beside them: the N class (older) is evicted first
      const s = poolStats();
      expect(s.pooledBytes).toBe(3 * f32(N)); // one N + the 2N
      expect(s.evictions).toBe(ev + 1);
      // both classes are served once: the 2N buffer given last, and the N left
      const hits = s.hits;
      poolBuffers(2 * N, 1);
      poolBuffers(N, 1);
      expect(poolStats().hits).toBe(hits + 2);
      // two 2N buffers back need 4N > 3N: the N class (least recently used now) goes first, then
      // the first 2N buffer; the last one given stays
      poolBuffers(2 * N, 2);
      expect(poolStats().pooledBytes).toBe(2 * f32(N));
      const misses = poolStats().misses;
      poolBuffers(N, 1);
      expect(poolStats().misses).toBe(misses + 1);
    } finally {
      T.setPoolLimit(previous);
    }
  });
  it('a buffer larger than the limit is not pooled; limit 0 turns the pool off', () => {
    const previous = T.setPoolLimit(f32(N) - 1);
    try {
      T.clearPool();
      poolBuffers(N, 1);
      expect(poolStats().pooledBytes).toBe(0);
      T.setPoolLimit(0);
      poolBuffers(N / 2 + POOL_MIN_ELEMENTS, 1);
      expect(poolStats().pooledBytes).toBe(0);
    } finally {
      T.setPoolLimit(previous);
    }
  });
  it('lowering the limit evicts down to it; zero-needing ops still get zeros from recycled buffers', () => {
    const previous = T.setPoolLimit(8 * f32(N));
    try {
      T.clearPool();
      poolBuffers(N, 4);
      expect(poolStats().pooledBytes).toBe(4 * f32(N));
      expect(T.setPoolLimit(f32(N))).toBe(8 * f32(N));
      expect(poolStats().pooledBytes).toBe(f32(N));
      expect(T.poolLimit()).toBe(f32(N));
      const hits = poolStats().hits;
      const z = T.zeros([N]); // takes the recycled buffer, which held 3s
      expect(poolStats().hits).toBe(hits + 1);
      expect(z.abs().sum().item()).toBe(0);
      z.dispose();
    } finally {
      T.setPoolLimit(previous);
    }
  });
  it('setPoolLimit and NL_POOL_MAX_MB refuse bad values by name', () => {
    expect(() => T.setPoolLimit(-1)).toThrow(/setPoolLimit: bytes must be a finite number >= 0.*-1/);
    expect(() => T.setPoolLimit(Number.NaN)).toThrow(/NaN/);
    expect(() => T.setPoolLimit('5' as unknown as number)).toThrow(/setPoolLimit/);
    expect(poolLimitFromEnv(undefined)).toBe(DEFAULT_POOL_LIMIT_BYTES);
    expect(poolLimitFromEnv(' ')).toBe(DEFAULT_POOL_LIMIT_BYTES);
    expect(poolLimitFromEnv('64')).toBe(64 * 2 ** 20);
    expect(poolLimitFromEnv('0')).toBe(0);
    expect(() => poolLimitFromEnv('lots')).toThrow(/NL_POOL_MAX_MB must be a number of MiB >= 0.*'lots'/);
    expect(() => poolLimitFromEnv('-3')).toThrow(/NL_POOL_MAX_MB/);
  });
});
