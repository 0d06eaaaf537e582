/**
 * HopeLM's `valueStream` switch (README "The value stream"): the v generator reads
 * x_v = ℓ2(conv₄(W_v RMSNorm(h))) per head. Checked: config (default off and absent from the
 * resolved config, refusals naming it), the analytic parameter count, the wiring (W_v and the
 * value conv reach the output and get outer gradients; the other parameters keep their names), the
 * tensor-op decoder fed in pieces == forward (float64, every impl), the fast state and session
 * files carry the value conv's cache (the online 'truncated' scheme detaches it at the cuts), and
 * the fused decoder / ONNX export refuse it by name.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noGrad, tensor, tidy } from '@nl/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { HopeLM, type HopeConfigInput } from '../src/models/hope-index.js';
import { hopeParamCount, resolveHopeConfig } from '../src/models/hope-config.js';
import { HopeDecoder, fastStateTensors } from '../src/models/hope-decoder.js';
import { HopeSession } from '../src/session/session.js';
import { exportHopeOnnx } from '../src/export/onnx-hope.js';
import { forwardRows, maxDiff } from './models-helpers.js';
import { hostIds, stepRows as piecesRows } from './decode-helpers.js';
import { VALUE_STREAM_SMALL } from './hope-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'hope-vs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SMALL: HopeConfigInput = VALUE_STREAM_SMALL;

const ids = (n: number, seed: number): Int32Array => hostIds(n, seed, SMALL.vocabSize);
/** Concatenated `step` logits of `x` fed in pieces of the given sizes. */
const stepRows = piecesRows;

describe('HopeLM valueStream', () => {
  it('config: off by default and absent from the resolved config; true kept; refusals name it', () => {
    const base = { vocabSize: 8, dim: 8, layers: 1, heads: 2 };
    expect('valueStream' in resolveHopeConfig(base)).toBe(false);
    expect('valueStream' in resolveHopeConfig({ ...base, valueStream: false })).toBe(false);
    expect(resolveHopeConfig({ ...base, valueStream: true, selfModImpl: 'chunked' }).valueStream).toBe(true);
    // every impl ('fused' on the CPU: hope-value-stream-fused.test.ts)
    expect(resolveHopeConfig({ ...base, valueStream: true, selfModImpl: 'fused' }).valueStream).toBe(true);
    expect(() => resolveHopeConfig({ ...base, valueStream: 1 as unknown as boolean })).toThrow(
      /valueStream must be a boolean, got 1/,
    );
  });

  it('hopeParamCount == the built parameters; + d² + 5d per layer (W_v, the value conv); other names kept', () => {
    const on = new HopeLM(SMALL);
    const off = new HopeLM({ ...SMALL, valueStream: false });
    const count = (m: HopeLM): number => m.parameters().reduce((s, p) => s + p.numel, 0);
    expect(count(on)).toBe(hopeParamCount(on.config));
    expect(count(off)).toBe(hopeParamCount(off.config));
    const d = SMALL.dim;
    expect(count(on) - count(off)).toBe(SMALL.layers * (d * d + 5 * d));
    const offParams = new Map(off.namedParameters());
    expect(on.namedParameters().length).toBe(offParams.size + 3 * SMALL.layers); // wv.weight, convV.weight / bias
    for (const [n, p] of on.namedParameters()) {
      const q = offParams.get(n);
      if (/\.(wv|convV)\./.test(n)) expect(q, n).toBeUndefined();
      else expect(q?.shape, n).toEqual(p.shape);
    }
    // the value stream changes the output, and W_v / its conv get outer gradients
    const x = ids(20, 3);
    expect(maxDiff(forwardRows(on, x), forwardRows(off, x))).toBeGreaterThan(1e-6);
    const batch = tensor(Array.from(ids(21, 4)), { shape: [1, 21], dtype: 'int32' });
    on.lossAndBackward(batch);
    for (const [n, p] of on.namedParameters())
      if (/\.(wv|convV)\./.test(n))
        expect(Math.max(...Array.from(p.grad!.dataSync(), Math.abs)), n).toBeGreaterThan(0);
  });

  for (const selfModImpl of ['loop', 'chunked', 'fused'] as const)
    it(`${selfModImpl}: the tensor-op decoder fed in pieces == forward (float64), state from a given start`, () => {
      const m = new HopeLM({ ...SMALL, selfModImpl });
      const x = ids(40, 2);
      const dec = new HopeDecoder(m, undefined, { fused: false });
      const pieces = [1, 3, 7, 1, 2, 11, 5, 10]; // crosses chunkMem 8 and chunkOther 3 mid-piece
      expect(maxDiff(stepRows(dec, x, pieces), forwardRows(m, x))).toBeLessThan(1e-10);
      const st = dec.fastState;
      for (const l of st.layers) expect(l.convV?.shape).toEqual([1, 3, SMALL.dim]);
      // a second decoder started from the first one's state continues it (value conv cache included)
      const y = ids(9, 5);
      const a = new HopeDecoder(m, st, { fused: false });
      const whole = forwardRows(m, Int32Array.from([...x, ...y])).subarray(40 * SMALL.vocabSize);
      expect(maxDiff(stepRows(a, y, [4, 5]), whole)).toBeLessThan(1e-10);
      // without the value cache the continuation differs: the cache carries information
      const dropped = { layers: st.layers.map((l) => ({ ...l, convV: null })) };
      const b = new HopeDecoder(m, dropped, { fused: false });
      expect(maxDiff(stepRows(b, y, [4, 5]), whole)).toBeGreaterThan(1e-8);
      for (const d of [dec, a, b]) d.dispose();
    });

  it('the fused decoder refuses it by name; the default decoder falls back to the tensor-op path', () => {
    const m = new HopeLM({ ...SMALL, dtype: 'float32' });
    expect(() => new HopeDecoder(m, undefined, { fused: true })).toThrow(
      /fused decoder: the value stream \(valueStream\) is on/,
    );
    const dec = m.decoder() as HopeDecoder;
    expect(dec.fusedNext).toBe(false);
    const x = ids(12, 6);
    const got = Float64Array.from(stepRows(dec, x, [5, 7]));
    expect(maxDiff(got, forwardRows(m, x))).toBeLessThan(1e-4);
    dec.dispose();
  });

  it('session state files carry the value conv cache: save → load continues identically', () => {
    const m = new HopeLM({ ...SMALL, vocabSize: 256, selfModImpl: 'chunked' });
    const a = new HopeSession(m);
    a.feed('Once upon a time, ');
    const path = join(dir, 'vs.safetensors');
    a.saveState(path);
    const b = new HopeSession(m);
    b.feed('something else entirely');
    b.loadState(path);
    const values = (s: HopeSession): number[] =>
      fastStateTensors(s.fastState).flatMap((t) => Array.from(t.dataSync()));
    expect(values(b)).toEqual(values(a));
    expect(b.fastState.layers[0]!.convV).not.toBeNull();
    expect(b.feed('there lived a memory.').nats).toBe(a.feed('there lived a memory.').nats);
  });

  it("online scheme: 'truncated' cuts the value conv cache too (same loss as 'full'; W_v's gradient differs)", () => {
    const firing = [
      { chunkSize: 4, lr: 0 },
      { chunkSize: 6, lr: 0 },
    ];
    const batch = tensor(Array.from(ids(26, 8)), { shape: [2, 13], dtype: 'int32' });
    const run = (trainGrad: 'full' | 'truncated'): { loss: number; g: Float64Array } => {
      const m = new HopeLM({ ...SMALL, cmsLevels: firing, selfModImpl: 'chunked', trainGrad });
      const loss = m.lossAndBackward(batch);
      const g = Float64Array.from(new Map(m.namedParameters()).get('layers.1.wv.weight')!.grad!.dataSync());
      return { loss, g };
    };
    const [full, cut] = [run('full'), run('truncated')];
    expect(Math.abs(full.loss - cut.loss)).toBeLessThan(1e-12);
    expect(maxDiff(full.g, cut.g)).toBeGreaterThan(1e-9);
  });

  it('the ONNX export refuses it by name', () => {
    const m = new HopeLM({ ...SMALL, dtype: 'float32' });
    expect(() => exportHopeOnnx(m, { mode: 'step' })).toThrow(
      /config field\(s\) valueStream are not supported/,
    );
  });

  it('fastState / loadFastState / resetFast include the value conv cache', () => {
    const m = new HopeLM(SMALL);
    tidy(() =>
      noGrad(() => {
        m.resetFast();
        expect(m.fastState().layers[0]!.convV).toBeNull();
        m.step(tensor(Array.from(ids(5, 7)), { shape: [1, 5], dtype: 'int32' }));
        const s = m.fastState();
        expect(s.layers[0]!.convV!.shape).toEqual([1, 3, SMALL.dim]);
        m.resetFast();
        m.loadFastState(s);
        expect(m.blocks[0]!.convVCache).toBe(s.layers[0]!.convV);
        m.resetFast();
        expect(m.blocks[0]!.convVCache).toBeNull();
      }),
    );
    const off = new HopeLM({ ...SMALL, valueStream: false });
    expect('convV' in off.fastState().layers[0]!).toBe(false);
  });
});
