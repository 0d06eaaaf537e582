/**
 * HopeLM exported to ONNX and run by onnxruntime-node (CPU): the step graph, fed its own state
 * back, reproduces HopeDecoder's logits and its whole fast state token by token (memories written,
 * snapshots refreshed at chunk boundaries, conv caches, CMS Δ); the forward graph (a Loop over the
 * step body) reproduces HopeLM.forward for batch 2; with the inner-gradient clip (issue 16) both
 * graphs reproduce the clipped model, whose logits the clip moves; what it cannot export is
 * refused by name.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { mul, noGrad, nn, randn, tensor, zeros, type Tensor } from '@nl/tensor';
import {
  exportHopeOnnx,
  hopeOnnxState,
  hopePreset,
  hopeStateNames,
  HopeLM,
  type HopeConfigInput,
  type HopeDecoder,
  type HopeFastState,
  type HopeOnnxValue,
} from '../src/index.js';

/** hope-tiny shrunk for test speed; chunks small so that T = 11 crosses several boundaries. */
const config = (over: Partial<HopeConfigInput> = {}): HopeConfigInput =>
  hopePreset('hope-tiny', {
    vocabSize: 40,
    dim: 16,
    heads: 2,
    memoryHidden: 6,
    chunkMem: 4,
    chunkOther: 3,
    cmsHidden: 20,
    cmsLevels: [
      { chunkSize: 2, lr: 1e-2 },
      { chunkSize: 4, lr: 1e-2 },
    ],
    seed: 5,
    ...over,
  });

/**
 * A model whose memory writes move the logits: at the default init (std 0.02, η ≈ 0.02) the
 * memories are near-identity maps and the logits hardly depend on what they learn, so a wrong
 * write could pass a logits check. Larger memory inits and η ≈ α / 2 make every write count.
 */
function lively(over: Partial<HopeConfigInput> = {}): HopeLM {
  const model = new HopeLM(config({ etaBias: -1, ...over }));
  noGrad(() => {
    for (const [name, p] of Object.entries(model.stateDict()))
      if (name.includes('.titans.')) nn.init.normal_(p, 0, 0.3);
  });
  return model;
}

/** The fresh state with every CMS level's Δ drawn at random (as after some test-time CMS learning). */
function withCmsDelta(model: HopeLM): HopeFastState {
  model.resetFast();
  const s = model.fastState();
  return {
    layers: s.layers.map((l) => ({
      ...l,
      cms: {
        ...l.cms,
        levels: l.cms.levels.map((lv) => ({
          ...lv,
          d1: noGrad(() => mul(randn(lv.d1.shape), 0.05)),
          d2: noGrad(() => mul(randn(lv.d2.shape), 0.05)),
        })),
      },
    })),
  };
}

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 1e-12;
  let err = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
  }
  return err / scale;
}

const ortValue = (v: HopeOnnxValue): ort.Tensor =>
  v.data instanceof BigInt64Array
    ? new ort.Tensor('int64', v.data, v.dims)
    : new ort.Tensor('float32', v.data, v.dims);

const VARIANTS: Partial<HopeConfigInput>[] = [
  { selfModImpl: 'fused', cmsImpl: 'fused' },
  { selfModImpl: 'loop' },
  { selfModImpl: 'chunked' },
  // the ablation switches (Table 6)
  { selfModImpl: 'loop', precondition: false },
  { selfModImpl: 'chunked', staticGenerators: true },
  // the inner-gradient clip (acting at this init: see 'the clip acts' below)
  { selfModImpl: 'fused', innerGradClip: 0.02 },
  { selfModImpl: 'chunked', innerGradClip: 0.02 },
];

describe.each(VARIANTS)('HopeLM ONNX step graph (%o) run by onnxruntime-node', (variant) => {
  it('fed its own state back == HopeDecoder logits and fast state, token by token (CMS Δ ≠ 0)', async () => {
    const model = lively(variant);
    const V = model.config.vocabSize;
    const T = 11; // chunkOther 3 and chunkMem 4: snapshot refreshes at 3, 4, 6, 8, 9
    const ids = Int32Array.from({ length: T }, (_, i) => (i * 17 + 3) % V);
    const session = await ort.InferenceSession.create(exportHopeOnnx(model, { mode: 'step' }));
    const start = withCmsDelta(model);
    const dec = model.decoder(start) as HopeDecoder;
    const names = hopeStateNames(model);
    const feeds: Record<string, ort.Tensor> = {};
    const s0 = hopeOnnxState(model, start);
    expect(Math.max(...Array.from(s0.cms_1_d2_1!.data as Float32Array, Math.abs))).toBeGreaterThan(0.05);
    for (const n of names) feeds[n] = ortValue(s0[n]!);
    let moved = 0;
    for (let t = 0; t < T; t++) {
      feeds.ids = new ort.Tensor('int32', Int32Array.of(ids[t]!), [1, 1]);
      const out = await session.run(feeds);
      const want = dec.step(Int32Array.of(ids[t]!));
      expect(out.logits!.dims).toEqual([1, 1, V]);
      expect(maxRelErr(out.logits!.data as Float32Array, want.dataSync())).toBeLessThan(1e-4);
      want.dispose();
      const ours = hopeOnnxState(model, dec.fastState);
      for (const n of names) {
        const got = out[`${n}_out`]!;
        expect(got.dims, n).toEqual(ours[n]!.dims);
        if (n === 'position') expect(got.data, n).toEqual(ours[n]!.data);
        // momenta: e = k + a1 σ(p) − v̂ nearly cancels at init (k ≈ v̂), so float32 keeps ~1e-4 of them
        else expect(maxRelErr(got.data as Float32Array, ours[n]!.data as Float32Array), `${n} at ${t}`).toBeLessThan(5e-4); // prettier-ignore
        feeds[n] = got;
      }
      moved = Math.max(moved, maxRelErr(out.titans_0_mem_w2_out!.data as Float32Array, s0.titans_0_mem_w2!.data as Float32Array)); // prettier-ignore
    }
    expect(moved).toBeGreaterThan(1e-3); // the memories were written
    dec.dispose();
    await session.release();
    model.dispose();
  });
});

describe('HopeLM ONNX forward graph run by onnxruntime-node', () => {
  it.each([false, true])(
    '== HopeLM.forward (batch 2, odd length, chunk boundaries crossed; tied head %s)',
    async (tieEmbeddings) => {
      const model = lively({ tieEmbeddings });
      const V = model.config.vocabSize;
      const [B, T] = [2, 9];
      const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 29 + 5) % V);
      const want = model.forward(tensor(ids, { shape: [B, T], dtype: 'int32' }));
      const session = await ort.InferenceSession.create(exportHopeOnnx(model, { mode: 'forward' }));
      const out = await session.run({ ids: new ort.Tensor('int32', ids, [B, T]) });
      expect(out.logits!.dims).toEqual([B, T, V]);
      expect(maxRelErr(out.logits!.data as Float32Array, want.dataSync())).toBeLessThan(1e-4);
      // a shorter batch-1 sequence through the same graph: the rows of its prefix
      const short = await session.run({ ids: new ort.Tensor('int32', ids.slice(0, 4), [1, 4]) });
      expect(maxRelErr(short.logits!.data as Float32Array, want.dataSync().slice(0, 4 * V))).toBeLessThan(
        1e-4,
      );
      // its final state == the decoder's after the same tokens (prefill by 'forward', go on by 'step')
      const dec = model.decoder() as HopeDecoder;
      dec.step(ids.slice(0, 4)).dispose();
      const ours = hopeOnnxState(model, dec.fastState);
      const carried = hopeStateNames(model).filter((n) => !n.startsWith('cms_'));
      expect(short.position_out!.data).toEqual(BigInt64Array.of(4n));
      for (const n of carried.slice(1))
      expect(maxRelErr(short[`${n}_out`]!.data as Float32Array, ours[n]!.data as Float32Array), n).toBeLessThan(5e-4); // prettier-ignore
      dec.dispose();
      want.dispose();
      await session.release();
      model.dispose();
    },
  );
});

describe('HopeLM ONNX with the inner-gradient clip', () => {
  it('the forward graph == the clipped HopeLM.forward, which lies far from the unclipped one', async () => {
    const clipped = lively({ innerGradClip: 0.02 });
    const open = new HopeLM(config({ etaBias: -1 })); // the same weights, no clip
    noGrad(() => {
      const sd = clipped.stateDict();
      for (const [name, p] of Object.entries(open.stateDict())) p.copy_(sd[name]!);
    });
    const V = clipped.config.vocabSize;
    const [B, T] = [2, 9];
    const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 13 + 7) % V);
    const x = tensor(ids, { shape: [B, T], dtype: 'int32' });
    const want = clipped.forward(x).dataSync();
    const session = await ort.InferenceSession.create(exportHopeOnnx(clipped, { mode: 'forward' }));
    const out = await session.run({ ids: new ort.Tensor('int32', ids, [B, T]) });
    const err = maxRelErr(out.logits!.data as Float32Array, want);
    expect(err).toBeLessThan(1e-4);
    // the clip acts: the unclipped model's logits lie ≥ 20× farther than the graph's error
    expect(maxRelErr(open.forward(x).dataSync(), want)).toBeGreaterThan(Math.max(20 * err, 1e-3));
    await session.release();
    clipped.dispose();
    open.dispose();
  });
});

describe('HopeLM ONNX export refuses what it cannot reproduce', () => {
  it('float64, a bad mode, unknown config fields, unknown parameters, frozen memories', () => {
    const f64 = new HopeLM(config({ dtype: 'float64' }));
    expect(() => exportHopeOnnx(f64, { mode: 'step' })).toThrow(/float32 models only, got dtype float64/);
    f64.dispose();
    const model = new HopeLM(config());
    expect(() => exportHopeOnnx(model, { mode: 'bogus' as never })).toThrow(
      /mode must be 'forward' or 'step'/,
    );
    // a config field added by a later version (e.g. a new memory option) is named, not ignored
    const odd = new HopeLM(config());
    (odd.config as Record<string, unknown>).learnEtaBias = true;
    expect(() => exportHopeOnnx(odd, { mode: 'step' })).toThrow(TypeError);
    expect(() => exportHopeOnnx(odd, { mode: 'step' })).toThrow(/config field\(s\) learnEtaBias/);
    odd.dispose();
    // a parameter the exporter does not read (e.g. a learnable gate bias) is named, not dropped
    const extra = new HopeLM(config());
    const titans = extra.blocks[1]!.titans as unknown as { registerParameter(n: string, t: Tensor): Tensor };
    titans.registerParameter('etaBiasVec', zeros([2]));
    for (const mode of ['step', 'forward'] as const)
      expect(() => exportHopeOnnx(extra, { mode })).toThrow(/does not know: layers\.1\.titans\.etaBiasVec/);
    extra.dispose();
    // frozen memories do not write: the graph always writes, so it refuses
    for (const m of model.fastModules('layers.0.titans')) m.freeze();
    expect(() => exportHopeOnnx(model, { mode: 'step' })).toThrow(
      /layer 0's self-modifying memory is frozen/,
    );
    model.dispose();
  });
});
